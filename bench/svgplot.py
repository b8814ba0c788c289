"""Plain-SVG line plots for the benchmark reports (no plotting library)."""
import math, os


def svg_plot(path, title, xlabel, ylabel, series, xlog=False, ylog=False, xticks=None, yfmt="%.3g"):
    W, H, l, r, t, b = 760, 430, 80, 270, 40, 55
    xs = [x for s in series for x, _ in s["points"]]
    ys = [y for s in series for _, y in s["points"]]
    fx = (lambda v: math.log10(v)) if xlog else (lambda v: v)
    fy = (lambda v: math.log10(v)) if ylog else (lambda v: v)
    x0, x1 = min(map(fx, xs)), max(map(fx, xs))
    y0, y1 = min(map(fy, ys)), max(map(fy, ys))
    if x1 == x0: x0, x1 = x0 - 1, x1 + 1
    pad = (y1 - y0) * 0.08 or 0.1
    y0, y1 = y0 - pad, y1 + pad
    X = lambda v: l + (fx(v) - x0) / (x1 - x0) * (W - l - r)
    Y = lambda v: H - b - (fy(v) - y0) / (y1 - y0) * (H - t - b)
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">' % (W, H),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="%d" y="22" font-size="15" font-weight="bold">%s</text>' % (l, title),
           '<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>' % (l, H - b, W - r, H - b),
           '<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>' % (l, t, l, H - b),
           '<text x="%d" y="%d" text-anchor="middle">%s</text>' % ((l + W - r) / 2, H - 12, xlabel),
           '<text x="18" y="%d" transform="rotate(-90 18 %d)" text-anchor="middle">%s</text>' % ((t + H - b) / 2, (t + H - b) / 2, ylabel)]
    for xv, lab in (xticks or [(v, "%g" % v) for v in sorted(set(xs))]):
        out.append('<text x="%.1f" y="%d" text-anchor="middle">%s</text>' % (X(xv), H - b + 16, lab))
    for i in range(6):
        yv = y0 + (y1 - y0) * i / 5
        val = 10 ** yv if ylog else yv
        out.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>' % (l, Y(val), W - r, Y(val)))
        out.append('<text x="%d" y="%.1f" text-anchor="end">%s</text>' % (l - 6, Y(val) + 4, yfmt % val))
    colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#17becf"]
    for i, s in enumerate(series):
        c = colors[i % len(colors)]
        pts = " ".join("%.1f,%.1f" % (X(x), Y(y)) for x, y in s["points"])
        dash = ' stroke-dasharray="6,4"' if s.get("dashed") else ""
        out.append('<polyline points="%s" fill="none" stroke="%s" stroke-width="2"%s/>' % (pts, c, dash))
        for x, y in s["points"]:
            out.append('<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"/>' % (X(x), Y(y), c))
        ly = t + 10 + 18 * i
        out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"%s/>' % (W - r + 12, ly, W - r + 36, ly, c, dash))
        out.append('<text x="%d" y="%d">%s</text>' % (W - r + 42, ly + 4, s["name"]))
    out.append("</svg>")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
