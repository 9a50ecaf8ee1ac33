import DRCore
import DRVerify
import Foundation

/// Pieces shared by the drill page and the history page: escaping, the one stylesheet, the
/// page frame, and the phase colours. Every page is one self-contained file — inline CSS and
/// SVG, no script, no font or image from elsewhere — and well-formed XML as well as HTML (so
/// any parser reads it), readable offline and printable.
enum PageParts {
    /// Text for element content and attribute values.
    static func esc(_ s: String) -> String { XMLText.escape(s) }

    /// Numbers in SVG coordinates: fixed, short, locale-free.
    static func num(_ v: Double) -> String {
        let r = (v * 10).rounded() / 10
        return r == r.rounded() ? String(Int(r)) : String(format: "%.1f", r)
    }

    static func duration(_ seconds: Double?) -> String { seconds.map(DurationText.format) ?? "–" }

    /// Phase colours (also used by the history page's legend), and the fallback for other names.
    static func colour(ofPhase name: String) -> String {
        switch name {
        case "restore": return "#3b6fb6"
        case "connect": return "#e0a526"
        case "verify": return "#3f9e5a"
        default: return "#8a6bbf"
        }
    }

    static let css = """
    :root{--ok:#1e7b34;--bad:#b3261e;--warn:#9a6700;--ink:#1d2430;--muted:#5b6573;--line:#d8dde4;--bg:#f6f8fa}
    *{box-sizing:border-box}
    body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--ink);margin:0;background:#fff}
    main{max-width:980px;margin:0 auto;padding:24px}
    h1{font-size:24px;margin:0 0 4px}
    h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
    h3{font-size:16px;margin:18px 0 6px}
    .sub{color:var(--muted);margin:0 0 16px}
    .verdict{display:inline-block;padding:6px 14px;border-radius:6px;color:#fff;font-weight:700;letter-spacing:.04em;text-transform:uppercase}
    .badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:13px;font-weight:600}
    .verdict.passed,.badge.ok{background:var(--ok);color:#fff}
    .verdict.failed,.badge.bad{background:var(--bad);color:#fff}
    .verdict.interrupted,.badge.warn{background:var(--warn);color:#fff}
    .banner{display:flex;gap:16px;align-items:center;flex-wrap:wrap;background:var(--bg);border:1px solid var(--line);border-radius:8px;padding:14px 16px}
    .failure{color:var(--bad);font-weight:600}
    table{border-collapse:collapse;width:100%;margin:6px 0 10px}
    th,td{border-bottom:1px solid var(--line);padding:5px 8px;text-align:left;vertical-align:top}
    th{background:var(--bg);font-weight:600}
    td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
    dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:8px 0}
    dl.facts dt{color:var(--muted)}
    dl.facts dd{margin:0}
    code{font:13px ui-monospace,"DejaVu Sans Mono",monospace;background:var(--bg);padding:0 3px;border-radius:3px}
    .ok:not(.badge){color:var(--ok)}
    .bad:not(.badge){color:var(--bad)}
    .muted{color:var(--muted)}
    svg{display:block;max-width:100%;height:auto}
    svg text{font:12px system-ui,"DejaVu Sans",sans-serif;fill:var(--ink)}
    .legend span{display:inline-block;margin-right:14px}
    .legend i{display:inline-block;width:11px;height:11px;border-radius:2px;margin-right:4px;vertical-align:-1px}
    footer{margin-top:32px;color:var(--muted);font-size:13px}
    @media print{main{max-width:none;padding:0}.banner{border:1px solid #999}
      .verdict,.badge{-webkit-print-color-adjust:exact;print-color-adjust:exact}
      section,table,svg{break-inside:avoid}a{color:inherit;text-decoration:none}}
    """

    /// The page around `body`.
    static func page(title: String, body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <meta name="generator" content="dr \(esc(ToolInfo.version))"/>
        <title>\(esc(title))</title>
        <style>
        \(css)
        </style>
        </head>
        <body>
        <main>
        \(body)
        </main>
        </body>
        </html>

        """
    }

    /// A phase legend, in the phases' order.
    static func legend(_ phases: [String]) -> String {
        "<p class=\"legend\">" + phases.map { "<span><i style=\"background:\(colour(ofPhase: $0))\"></i>\(esc($0))</span>" }.joined() + "</p>"
    }
}
