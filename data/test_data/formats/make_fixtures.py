"""Makes the non-CSV upload fixtures (#22). Every file holds the same small
table (penguins' first rows, with a missing value and a date) as
`table.csv`, so a test can read each and compare with the CSV.

    pip install openpyxl pyarrow xlwt
    python3 make_fixtures.py

openpyxl 3.1.5, pyarrow 26.0.1, xlwt 1.3.0.
"""
import csv, datetime, gzip, io, json, zipfile

import openpyxl
import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import xlwt

HEADER = ["species", "island", "bill_length_mm", "body_mass_g", "seen"]
ROWS = [
    ["Adelie", "Torgersen", 39.1, 3750, datetime.date(2007, 11, 11)],
    ["Adelie", "Torgersen", 39.5, 3800, datetime.date(2007, 11, 11)],
    ["Gentoo", "Biscoe", None, 5100, datetime.date(2008, 11, 2)],
    ["Chinstrap", "Dream", 46.5, 3500, datetime.date(2009, 11, 24)],
    ["Gentoo", "Biscoe", 47.5, 5250, datetime.date(2009, 12, 1)],
]


def cell(v):
    if v is None:
        return ""
    if isinstance(v, datetime.date):
        return v.isoformat()
    return str(v)


text = io.StringIO()
w = csv.writer(text, lineterminator="\n")
w.writerow(HEADER)
for r in ROWS:
    w.writerow([cell(v) for v in r])
csv_bytes = text.getvalue().encode()
open("table.csv", "wb").write(csv_bytes)

# gzip with a fixed mtime, so the bytes do not change between runs.
with open("table.csv.gz", "wb") as f:
    with gzip.GzipFile(fileobj=f, mode="wb", mtime=0, filename="") as g:
        g.write(csv_bytes)


def zip_of(name, entries):
    with zipfile.ZipFile(name, "w", zipfile.ZIP_DEFLATED) as z:
        for entry, data in entries:
            info = zipfile.ZipInfo(entry, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)


zip_of("table.zip", [("__MACOSX/._table.csv", b"junk"), ("table.csv", csv_bytes)])
zip_of("two.zip", [("a.csv", csv_bytes), ("b.csv", csv_bytes)])

# A decompression bomb: 20 MB of one repeated row behind a small gzip.
row = b"1,2,3,4,5,6,7,8,9,0\n"
with open("bomb.csv.gz", "wb") as f:
    with gzip.GzipFile(fileobj=f, mode="wb", mtime=0, filename="", compresslevel=9) as g:
        g.write(b"a,b,c,d,e,f,g,h,i,j\n")
        for _ in range(20 * 1024 * 1024 // len(row)):
            g.write(row)

# JSON Lines: one object per line, a key missing in one row, a nested value.
with open("table.jsonl", "w") as f:
    for r in ROWS:
        obj = {k: (cell(v) if isinstance(v, datetime.date) else v) for k, v in zip(HEADER, r)}
        if obj["bill_length_mm"] is None:
            del obj["bill_length_mm"]
        f.write(json.dumps(obj) + "\n")
with open("broken.jsonl", "w") as f:
    f.write('{"a": 1, "b": "x"}\n{"a": 2, "b": "y"\n')

# Parquet and Arrow IPC, typed.
table = pa.table(
    {h: [r[i] for r in ROWS] for i, h in enumerate(HEADER)},
    schema=pa.schema([
        ("species", pa.string()), ("island", pa.string()), ("bill_length_mm", pa.float64()),
        ("body_mass_g", pa.int64()), ("seen", pa.date32()),
    ]),
)
pq.write_table(table, "table.parquet", compression="snappy")
with ipc.new_file("table.arrow", table.schema) as sink:
    sink.write_table(table)

# Excel: the table on the second sheet, a notes sheet first, a header
# merged over two columns ("measures" over bill_length_mm and body_mass_g)
# in a second workbook.
wb = openpyxl.Workbook()
notes = wb.active
notes.title = "Notes"
notes["A1"] = "made by make_fixtures.py"
data = wb.create_sheet("Penguins")
data.append(HEADER)
for r in ROWS:
    data.append(r)
for c in data["E"][1:]:
    c.number_format = "yyyy-mm-dd"
wb.properties.created = datetime.datetime(2026, 1, 1)
wb.properties.modified = datetime.datetime(2026, 1, 1)
wb.save("two_sheets.xlsx")

wb = openpyxl.Workbook()
ws = wb.active
ws.title = "Merged"
ws.append(["species", "measures", None, "seen"])
ws.merge_cells("B1:C1")
for r in ROWS:
    ws.append([r[0], r[2], r[3], r[4]])
for c in ws["D"][1:]:
    c.number_format = "yyyy-mm-dd"
wb.properties.created = datetime.datetime(2026, 1, 1)
wb.properties.modified = datetime.datetime(2026, 1, 1)
wb.save("merged_header.xlsx")

book = xlwt.Workbook()
sheet = book.add_sheet("Penguins")
date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
for j, h in enumerate(HEADER):
    sheet.write(0, j, h)
for i, r in enumerate(ROWS, start=1):
    for j, v in enumerate(r):
        if v is None:
            continue
        sheet.write(i, j, v, date_style) if isinstance(v, datetime.date) else sheet.write(i, j, v)
book.save("table.xls")
