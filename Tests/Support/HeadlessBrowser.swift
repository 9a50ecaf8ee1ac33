import DRCore
import Foundation
import XCTest

/// Debian's Chromium, headless, for the page tests (scripts/setup.sh installs it): a PNG
/// screenshot and the DOM after parsing, of a local file. Every network request the browser
/// might make on its own goes to a closed port on 127.0.0.1; its profile is a fresh folder.
public enum HeadlessBrowser {
    public static let path = "/usr/bin/chromium"

    static func arguments(_ profile: String) -> [String] {
        ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run", "--disable-sync",
         "--disable-background-networking", "--disable-component-update", "--disable-default-apps",
         "--disable-domain-reliability", "--no-pings", "--proxy-server=http://127.0.0.1:9", "--user-data-dir=" + profile]
    }

    static func run(_ extra: [String], file: String) throws -> ProcessResult {
        guard FileManager.default.isExecutableFile(atPath: path) else {
            XCTFail("\(path) is missing: run the tests with make test (scripts/setup.sh installs chromium)")
            throw TestClusterError("no chromium")
        }
        let profile = NSTemporaryDirectory() + "dr-chromium-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: profile) }
        let r = try SystemProcessRunner.runBlocking("/usr/bin/timeout", ["120", path] + arguments(profile) + extra + [URL(fileURLWithPath: file).absoluteString])
        guard r.status == 0 else { throw TestClusterError("chromium exited \(r.status): \(r.stderr.suffix(2000))") }
        return r
    }

    /// The page as Chromium parsed it (`--dump-dom`).
    public static func dumpDOM(_ file: String) throws -> String {
        try run(["--dump-dom"], file: file).stdout
    }

    /// Renders the page at `width`×`height` to `png`.
    public static func screenshot(_ file: String, to png: String, width: Int = 1000, height: Int = 1400) throws {
        _ = try run(["--screenshot=" + png, "--window-size=\(width),\(height)"], file: file)
    }

    /// Prints the page to PDF as a user's Print would (no header or footer), returning its page count.
    public static func printToPDF(_ file: String, to pdf: String) throws -> Int {
        _ = try run(["--print-to-pdf=" + pdf, "--no-pdf-header-footer"], file: file)
        let data = try Data(contentsOf: URL(fileURLWithPath: pdf))
        guard data.starts(with: Data("%PDF-".utf8)) else { throw TestClusterError("\(pdf) is not a PDF") }
        let text = String(decoding: data, as: UTF8.self)
        return try NSRegularExpression(pattern: #"/Type\s*/Page[^s]"#).numberOfMatches(in: text, range: NSRange(text.startIndex..., in: text))
    }

    /// Width, height and how many pixels have each of `colours` (hex `#rrggbb`, within ±6 per channel),
    /// read by a small PNG decoder (8-bit RGB or RGBA, not interlaced, as Chromium writes them).
    public static func pixels(_ png: String, colours: [String]) throws -> (width: Int, height: Int, counts: [String: Int]) {
        let r = try SystemProcessRunner.runBlocking("python3", ["-c", pngScript, png] + colours)
        guard r.status == 0, let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any] else {
            throw TestClusterError("cannot read \(png): \(r.stderr)")
        }
        return (json["width"] as? Int ?? 0, json["height"] as? Int ?? 0, json["counts"] as? [String: Int] ?? [:])
    }

    /// The document's text (html5lib), and whether it parses with no error under the WHATWG rules.
    public static func html5(_ file: String) throws -> (errors: [String], text: String) {
        let r = try SystemProcessRunner.runBlocking("python3", ["-c", html5Script, file])
        guard r.status == 0, let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any] else {
            throw TestClusterError("html5lib failed on \(file): \(r.stderr)")
        }
        return (json["errors"] as? [String] ?? [], json["text"] as? String ?? "")
    }

    static let html5Script = """
    import sys, json, html5lib
    parser = html5lib.HTMLParser(namespaceHTMLElements=False)
    doc = parser.parse(open(sys.argv[1], encoding='utf-8').read())
    for s in doc.iter('style'): s.clear()
    errors = ['%s at %s' % (e[1], e[0]) for e in parser.errors]
    print(json.dumps({'errors': errors, 'text': ' '.join(' '.join(doc.itertext()).split())}))
    """

    static let pngScript = """
    import sys, zlib, struct, json
    data = open(sys.argv[1], 'rb').read()
    assert data[:8] == b'\\x89PNG\\r\\n\\x1a\\n', 'not a PNG'
    pos, idat, w = 8, b'', 0
    while pos < len(data):
        n, kind = struct.unpack('>I4s', data[pos:pos+8]); body = data[pos+8:pos+8+n]; pos += 12 + n
        if kind == b'IHDR':
            w, h, depth, ctype, _, _, interlace = struct.unpack('>IIBBBBB', body)
            assert depth == 8 and ctype in (2, 6) and interlace == 0, (depth, ctype, interlace)
            bpp = 3 if ctype == 2 else 4
        elif kind == b'IDAT': idat += body
    raw = zlib.decompress(idat); stride = w * bpp; prev = bytearray(stride); rows = []; i = 0
    for y in range(h):
        f = raw[i]; line = bytearray(raw[i+1:i+1+stride]); i += 1 + stride
        for x in range(stride):
            a = line[x-bpp] if x >= bpp else 0; b = prev[x]; c = prev[x-bpp] if x >= bpp else 0
            if f == 1: line[x] = (line[x] + a) & 255
            elif f == 2: line[x] = (line[x] + b) & 255
            elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c; pa, pb, pc = abs(p-a), abs(p-b), abs(p-c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line); prev = line
    want = {c: tuple(int(c[k:k+2], 16) for k in (1, 3, 5)) for c in sys.argv[2:]}
    counts = {c: 0 for c in want}
    for line in rows:
        for x in range(0, stride, bpp):
            px = line[x:x+3]
            for c, (r, g, b) in want.items():
                if abs(px[0]-r) <= 6 and abs(px[1]-g) <= 6 and abs(px[2]-b) <= 6: counts[c] += 1
    print(json.dumps({'width': w, 'height': h, 'counts': counts}))
    """
}
