import DRCLI
import Foundation

let status = await Main.run()
exit(status)
