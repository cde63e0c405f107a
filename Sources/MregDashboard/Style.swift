/// The page's only stylesheet, inline. Light and dark follow `prefers-color-scheme`; the series
/// colours are the Okabe–Ito palette (readable with the common colour-vision deficiencies), and
/// every series also has its own marker shape and a word in the legend.
enum Style {
    static let css = """
    :root{--bg:#ffffff;--fg:#1b1f24;--muted:#57606a;--card:#f6f8fa;--line:#d0d7de;--grid:#e6e9ec;
    --blue:#0072B2;--orange:#E69F00;--verm:#D55E00;--green:#009E73;--purple:#CC79A7;--grey:#8c959f;
    --h0:#eef3f8;--h1:#c6dbef;--h2:#9ecae1;--h3:#5b9bd0;--h4:#E69F00;--h5:#D55E00;color-scheme:light dark}
    @media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9da7b3;--card:#161b22;--line:#30363d;--grid:#21262d;
    --blue:#56B4E9;--orange:#F0C05A;--verm:#FF7F3F;--green:#3CC8A0;--purple:#E39AC8;--grey:#8b949e;
    --h0:#1a2533;--h1:#21405f;--h2:#2c5f8d;--h3:#4f8fcf;--h4:#E69F00;--h5:#FF7F3F}}
    *{box-sizing:border-box}
    body{margin:0;background:var(--bg);color:var(--fg);font:18px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif}
    header{padding:18px 28px;border-bottom:1px solid var(--line)}
    h1{margin:0 0 4px;font-size:2em} h2{margin:0 0 10px;font-size:1.3em}
    .meta,.note,.small{color:var(--muted)} .small{font-size:.85em}
    .summary{display:flex;flex-wrap:wrap;gap:12px;margin-top:12px}
    .pill{border:2px solid var(--line);border-radius:10px;padding:8px 14px;background:var(--card)}
    .pill b{font-size:1.15em}
    .st-critical{border-color:var(--verm)} .st-warning{border-color:var(--orange)} .st-ok{border-color:var(--green)} .st-none{border-style:dashed}
    main{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,980px),1fr));gap:18px;padding:18px 28px}
    section{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:16px 20px;min-width:0}
    section.urgent{border:3px solid var(--verm)}
    .note{font-style:italic;margin:6px 0}
    code{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:.92em}
    table{border-collapse:collapse;width:100%;font-size:.92em} th,td{text-align:left;padding:5px 8px;border-bottom:1px solid var(--line);vertical-align:top}
    th{color:var(--muted);font-weight:600} td.num{font-variant-numeric:tabular-nums;white-space:nowrap}
    .cards{display:flex;flex-wrap:wrap;gap:14px} .card{flex:1 1 280px;border:1px solid var(--line);border-radius:10px;padding:12px 14px;background:var(--bg)}
    .card .big{font-size:1.7em;font-weight:700}
    .ok{color:var(--green);font-weight:600} .bad{color:var(--verm);font-weight:700} .warn{color:var(--orange);font-weight:700}
    .sev{display:inline-block;min-width:6.5em;font-weight:700}
    .charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,560px),1fr));gap:0 24px}
    svg.chart{width:100%;height:auto;display:block;margin:6px 0 14px;overflow:visible}
    svg .lbl{fill:var(--fg);font-size:15px} svg .tick{fill:var(--muted);font-size:13px} svg .axt{fill:var(--muted);font-size:14px;font-weight:600}
    svg .strong{font-weight:700;fill:var(--fg)}
    svg .axis{stroke:var(--muted);stroke-width:1.2} svg .grid{stroke:var(--grid);stroke-width:1}
    svg .iv{stroke:var(--muted);stroke-width:2.5;stroke-linecap:round}
    svg .pline{fill:none;stroke:var(--blue);stroke-width:2.5}
    svg .band{fill:var(--green);fill-opacity:.22} svg .evline{stroke:var(--green);stroke-width:2;stroke-dasharray:6 4}
    svg .s-champ,svg .s-prom,svg .s-prod{fill:var(--blue)} svg .s-block{fill:var(--verm)} svg .s-ver{fill:var(--grey)}
    svg .s-over{fill:var(--orange)} svg .s-roll{fill:var(--purple)} svg .s-sign{fill:var(--green)}
    svg .s-band{fill:var(--green);fill-opacity:.45} svg .s-ivl{fill:var(--muted)} svg .s-none{fill:var(--grey)}
    svg path{stroke:var(--bg);stroke-width:1}
    svg .h0{fill:var(--h0)} svg .h1{fill:var(--h1)} svg .h2{fill:var(--h2)} svg .h3{fill:var(--h3)} svg .h4{fill:var(--h4)} svg .h5{fill:var(--h5)}
    svg .hnone{fill:none;stroke:var(--line)}
    footer{padding:8px 28px 24px;color:var(--muted);font-size:.85em}
    a{color:var(--blue)}
    """
}
