"""Small ICC v2 RGB profiles (matrix + tone curves) written from their published
primaries, for tests and benchmarks: nothing is downloaded.

Primaries, white points and tone curves: Adobe RGB (1998) Color Image Encoding (Adobe,
2005), ROMM RGB / ProPhoto (ISO 22028-2), Display P3 (Apple; DCI-P3 primaries, D65,
the sRGB curve), Rec. ITU-R BT.2020. Colorants are adapted to the D50 connection space
with the Bradford transform (ICC.1:2004-10 Annex E), as the ICC format requires.
"""

import struct

D50 = (0.9642, 1.0, 0.8249)
D65_XY = (0.3127, 0.3290)
D50_XY = (0.3457, 0.3585)
# sRGB's curve as an ICC parametric curve of type 3: g, a, b, c, d
SRGB_CURVE = ("para", (2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045))

SPACES = {
    "Adobe RGB (1998)": (((0.64, 0.33), (0.21, 0.71), (0.15, 0.06)), D65_XY, ("gamma", 563 / 256)),
    "ProPhoto RGB": (
        ((0.7347, 0.2653), (0.1596, 0.8404), (0.0366, 0.0001)),
        D50_XY,
        ("gamma", 1.8),
    ),
    "Display P3": (((0.680, 0.320), (0.265, 0.690), (0.150, 0.060)), D65_XY, SRGB_CURVE),
    "Rec. 2020": (((0.708, 0.292), (0.170, 0.797), (0.131, 0.046)), D65_XY, ("gamma", 2.4)),
}

_BRADFORD = ((0.8951, 0.2664, -0.1614), (-0.7502, 1.7135, 0.0367), (0.0389, -0.0685, 1.0296))


def _mul(a, b):
    return tuple(
        tuple(sum(a[i][k] * b[k][j] for k in range(3)) for j in range(3)) for i in range(3)
    )


def _inv(m):
    (a, b, c), (d, e, f), (g, h, i) = m
    det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)
    return (
        ((e * i - f * h) / det, (c * h - b * i) / det, (b * f - c * e) / det),
        ((f * g - d * i) / det, (a * i - c * g) / det, (c * d - a * f) / det),
        ((d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det),
    )


def _xyz(xy):
    x, y = xy
    return (x / y, 1.0, (1 - x - y) / y)


def colorants(primaries, white):
    """D50-adapted XYZ of the red, green and blue colorants: ((X, Y, Z),) * 3."""
    cols = [_xyz(p) for p in primaries]
    m = tuple(tuple(cols[j][i] for j in range(3)) for i in range(3))  # columns = primaries
    w = _xyz(white)
    s = [sum(_inv(m)[i][k] * w[k] for k in range(3)) for i in range(3)]
    rgb_to_xyz = tuple(tuple(m[i][j] * s[j] for j in range(3)) for i in range(3))
    src = [sum(_BRADFORD[i][k] * w[k] for k in range(3)) for i in range(3)]
    dst = [sum(_BRADFORD[i][k] * D50[k] for k in range(3)) for i in range(3)]
    scale = tuple(tuple(dst[i] / src[i] if i == j else 0.0 for j in range(3)) for i in range(3))
    adapted = _mul(_mul(_mul(_inv(_BRADFORD), scale), _BRADFORD), rgb_to_xyz)
    return tuple(tuple(adapted[i][j] for i in range(3)) for j in range(3))


def _s15(v):
    return struct.pack(">i", round(v * 65536))


def _curve(kind, value):
    if kind == "gamma":
        return b"curv" + bytes(4) + struct.pack(">IH", 1, round(value * 256)) + bytes(2)
    return b"para" + bytes(4) + struct.pack(">HH", 3, 0) + b"".join(_s15(v) for v in value)


def _desc(text):
    ascii_ = text.encode("ascii") + b"\0"
    return b"desc" + bytes(4) + struct.pack(">I", len(ascii_)) + ascii_ + bytes(4 + 4 + 2 + 1 + 67)


def rgb_profile(name):
    """The bytes of an ICC v2 display profile for one of SPACES (e.g. "Display P3")."""
    primaries, white, curve = SPACES[name]
    r, g, b = colorants(primaries, white)
    xyz = lambda v: b"XYZ " + bytes(4) + b"".join(_s15(c) for c in v)  # noqa: E731
    trc = _curve(*curve)
    tags = [
        (b"desc", _desc(name)),
        (b"cprt", b"text" + bytes(4) + b"No copyright, test profile\0"),
        (b"wtpt", xyz(D50)),
        (b"rXYZ", xyz(r)),
        (b"gXYZ", xyz(g)),
        (b"bXYZ", xyz(b)),
        (b"rTRC", trc),
        (b"gTRC", trc),
        (b"bTRC", trc),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for sig, data in tags:
        data += bytes(-len(data) % 4)
        table += sig + struct.pack(">II", offset + len(body), len(data))
        body += data
    size = offset + len(body)
    header = (
        struct.pack(">I", size)
        + bytes(4)
        + struct.pack(">I", 0x02100000)
        + b"mntrRGB XYZ "
        + struct.pack(">6H", 2026, 1, 1, 0, 0, 0)
        + b"acsp"
        + bytes(4 + 4 + 4 + 4 + 8)
        + struct.pack(">I", 0)
        + b"".join(_s15(c) for c in D50)
        + bytes(4 + 16 + 28)
    )
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + body
