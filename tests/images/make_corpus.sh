#!/usr/bin/env bash
# Regenerates the image corpus in this directory with real encoders
# (ImageMagick 6, libjpeg-turbo's cjpeg, Pillow). See README.md for what each
# file is and what the tests expect of it. Usage: tests/images/make_corpus.sh
# Needs: apt-get install imagemagick libjpeg-turbo-progs python3-pil
set -euo pipefail
cd "$(dirname "$0")"
IM=/usr/bin/convert   # the real ImageMagick, not a stand-in earlier on PATH
PY=/usr/bin/python3
SRC="-seed 1 plasma:fractal"   # a deterministic, photo-like picture
NODATE="-define png:exclude-chunks=date,time"

# JPEG
$IM -size 320x240 $SRC -strip -quality 90 jpeg_baseline_320x240.jpg
$IM -size 320x240 $SRC -strip -quality 90 -interlace JPEG jpeg_progressive_320x240.jpg
$IM -size 64x48 $SRC -strip -colorspace CMYK jpeg_cmyk_64x48.jpg
$IM -size 64x48 $SRC -strip -colorspace Gray jpeg_grey_64x48.jpg
$IM -size 64x48 $SRC -strip ppm:- | cjpeg -restart 1B -quality 90 > jpeg_restart_64x48.jpg
$IM -size 64x48 $SRC ppm:- | cjpeg -arithmetic > jpeg_arithmetic_64x48.jpg
$IM -size 160x120 $SRC -strip -quality 95 /tmp/lf_thumb_160x120.jpg
$PY - <<'PY'
# jpeg_exif_320x240.jpg: the baseline JPEG with an EXIF APP1 (IFD0: Make,
# Orientation=6; IFD1: a 160x120 JPEG thumbnail) inserted after SOI.
import struct
thumb = open('/tmp/lf_thumb_160x120.jpg', 'rb').read()
main = open('jpeg_baseline_320x240.jpg', 'rb').read()
make = b'LinkFace test\0'
def entry(tag, typ, count, value):
    return struct.pack('>HHI', tag, typ, count) + value
ifd0_off = 8
ifd0_size = 2 + 2 * 12 + 4
make_off = ifd0_off + ifd0_size
ifd1_off = make_off + len(make)
ifd1_size = 2 + 3 * 12 + 4
thumb_off = ifd1_off + ifd1_size
tiff = b'MM\0*' + struct.pack('>I', ifd0_off)
tiff += struct.pack('>H', 2) + entry(0x010F, 2, len(make), struct.pack('>I', make_off)) \
    + entry(0x0112, 3, 1, struct.pack('>HH', 6, 0)) + struct.pack('>I', ifd1_off)
tiff += make
tiff += struct.pack('>H', 3) + entry(0x0103, 3, 1, struct.pack('>HH', 6, 0)) \
    + entry(0x0201, 4, 1, struct.pack('>I', thumb_off)) \
    + entry(0x0202, 4, 1, struct.pack('>I', len(thumb))) + struct.pack('>I', 0)
tiff += thumb
app1 = b'Exif\0\0' + tiff
open('jpeg_exif_320x240.jpg', 'wb').write(main[:2] + b'\xff\xe1' + struct.pack('>H', len(app1) + 2) + app1 + main[2:])
PY
rm -f /tmp/lf_thumb_160x120.jpg
# After EOI: 6000 random bytes (like a motion photo's video) and a short text.
$PY -c "import random,sys; sys.stdout.buffer.write(open('jpeg_baseline_320x240.jpg','rb').read() + random.Random(1).randbytes(6000))" > jpeg_trailer_video_320x240.jpg
$PY -c "import sys; sys.stdout.buffer.write(open('jpeg_grey_64x48.jpg','rb').read() + b'written by a camera\n')" > jpeg_trailer_text_64x48.jpg

# PNG
$IM -size 120x90 $SRC $NODATE PNG24:png_truecolor_120x90.png
$PY -c "import sys; sys.stdout.buffer.write(open('png_truecolor_120x90.png','rb').read() + bytes(5000))" > png_trailer_120x90.png
$IM -size 64x48 $SRC -strip -colors 16 PNG8:png_palette_64x48.png
$IM -size 64x48 $SRC -strip -depth 16 PNG48:png_16bit_64x48.png
$IM -size 64x48 $SRC -strip -interlace PNG PNG24:png_interlaced_64x48.png
$IM -size 64x48 $SRC -strip -alpha set -channel A -evaluate set 50% +channel PNG32:png_alpha_64x48.png

# GIF
$IM -size 64x48 $SRC -strip gif_still_64x48.gif
$IM -size 120x90 $SRC -strip gif_still_120x90.gif
$IM -delay 10 -loop 0 -size 64x48 $SRC \( -size 64x48 gradient:red-blue \) \( -size 64x48 xc:green \) -strip gif_animated_64x48.gif

# BMP
$IM -size 64x48 $SRC -strip -type TrueColor BMP3:bmp_24bit_64x48.bmp
$IM -size 64x48 $SRC -strip -alpha set -type TrueColorAlpha BMP:bmp_32bit_64x48.bmp
$IM -size 64x48 $SRC -strip -colors 16 -compress RLE BMP3:bmp_rle8_64x48.bmp
$PY - <<'PY'
# bmp_topdown_64x48.bmp: the 24-bit BMP stored top-down (negative height,
# rows reversed), as some Windows software writes it.
import struct
b = bytearray(open('bmp_24bit_64x48.bmp', 'rb').read())
off, w, h = struct.unpack_from('<I', b, 10)[0], *struct.unpack_from('<ii', b, 18)
stride = (w * 3 + 3) // 4 * 4
rows = [bytes(b[off + i * stride: off + (i + 1) * stride]) for i in range(h)]
struct.pack_into('<i', b, 22, -h)
b[off:off + h * stride] = b''.join(reversed(rows))
open('bmp_topdown_64x48.bmp', 'wb').write(b)
PY

# TIFF
$IM -size 64x48 $SRC -strip -endian LSB -compress None tiff_le_64x48.tif
$IM -size 64x48 $SRC -strip -endian MSB -compress None tiff_be_64x48.tif
$IM -size 64x48 $SRC \( -size 32x20 xc:green \) -strip -compress None tiff_multipage_64x48.tif
$IM -size 64x48 $SRC -strip -compress LZW tiff_lzw_64x48.tif
$IM -size 64x48 $SRC -strip -define tiff:tile-geometry=16x16 tiff_tiled_64x48.tif
$IM -size 64x48 $SRC -strip -compress Zip TIFF64:tiff_bigtiff_64x48.tif
# Wider than ImageMagick's policy allows: Pillow (libtiff) writes ImageWidth as LONG.
$PY -c "from PIL import Image; Image.new('L', (70000, 9), 128).save('tiff_wide_70000x9.tif', compression='tiff_lzw')"

# The API's dimension edges: sides must be > 8 and <= 4000.
$IM -size 8x100 $SRC -strip PNG24:edge_8x100.png
$IM -size 9x9 $SRC -strip edge_9x9.jpg
$IM -size 4000x10 $SRC -strip -quality 50 edge_4000x10.jpg
$IM -size 4001x10 $SRC -strip -quality 50 edge_4001x10.jpg
$IM -size 10x4001 xc:gray -strip PNG24:edge_10x4001.png

# Truncated: a JPEG cut in half, a JPEG cut inside its headers, a PNG without IEND.
head -c $(( $(stat -c %s jpeg_baseline_320x240.jpg) / 2 )) jpeg_baseline_320x240.jpg > trunc_jpeg_half.jpg
head -c 300 jpeg_baseline_320x240.jpg > trunc_jpeg_in_headers.jpg
head -c $(( $(stat -c %s png_truecolor_120x90.png) - 12 )) png_truecolor_120x90.png > trunc_png_no_iend.png

# An extension that lies: a PNG named .jpg.
cp png_palette_64x48.png lie_png_named.jpg

# Not images.
printf 'This is a text file, not a photo.\n' > not_text.txt
printf '%%PDF-1.4\n%%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n' > not_pdf.pdf
$PY -c "
import zipfile
with zipfile.ZipFile('not_zip.zip', 'w') as z:
    z.writestr(zipfile.ZipInfo('photo.jpg', (2020, 1, 1, 0, 0, 0)), 'not a photo')
"
: > not_empty.jpg
printf '\xff\xd8\xff' > not_three_bytes.jpg
