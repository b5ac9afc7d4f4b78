"""The demo catalog of ./similarity.sh demo: openclipart drawings as a shop's products.

Writes catalog.csv (our native columns) and pictures.zip into the folder given (usage: demo_catalog.py OUT [COUNT]). A deterministic sample of the
drawings (by SKU, which is a hash of the path; at most PER_CATEGORY from any one folder, so the near-identical
`shapes/stars` do not fill the grid), their titles, keywords and descriptions from the SVG metadata, and prices,
brands and availability made up from the SKU, so every run writes the same bytes. Needs no torch.
"""
import csv
import hashlib
import os
import sys
import zipfile

from data import OPENCLIPART, load_catalog

COUNT = 3000
PER_CATEGORY = 60
BRANDS = ["Acme", "Northwind", "Contoso", "Fabrikam", "Litware", "Tailspin", "Wingtip", "Adventure Works"]


def made_up(sku):
    """Price, brand and availability from the SKU's own hash: the same for the same drawing, every run."""
    n = int(hashlib.sha256(sku.encode()).hexdigest(), 16)
    price = f"{1 + n % 97}.{(n // 97) % 100:02d}"
    return price, BRANDS[(n // 9700) % len(BRANDS)], (n // 77600) % 10 != 0  # one in ten unavailable


def main(out, count=COUNT):
    os.makedirs(out, exist_ok=True)
    chosen, per_category = [], {}
    for drawing in sorted(load_catalog(), key=lambda d: d.sku):
        if per_category.get(drawing.category, 0) < PER_CATEGORY:
            per_category[drawing.category] = per_category.get(drawing.category, 0) + 1
            chosen.append(drawing)
        if len(chosen) == count:
            break
    chosen.sort(key=lambda d: d.path)

    with open(os.path.join(out, "catalog.csv"), "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["sku", "title", "description", "category", "brand", "price", "currency", "available", "image"])
        for d in chosen:
            price, brand, available = made_up(d.sku)
            writer.writerow([d.sku, d.title, d.catalog_description, d.category, brand, price, "EUR",
                             "true" if available else "false", d.sku + ".png"])
    # Stored, not deflated: PNGs do not compress, and a fixed date keeps the zip's bytes the same every run.
    with zipfile.ZipFile(os.path.join(out, "pictures.zip"), "w", zipfile.ZIP_STORED) as archive:
        for d in chosen:
            info = zipfile.ZipInfo(d.sku + ".png", date_time=(2026, 1, 1, 0, 0, 0))
            with open(os.path.join(OPENCLIPART, "png", d.path + ".png"), "rb") as picture:
                archive.writestr(info, picture.read())
    print(f"{len(chosen)} drawings from {len(per_category)} folders → {out}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else COUNT)
