"""The openclipart catalog as training data: drawings with their category, cleaned text, split and pixels.

Debian's openclipart-png holds the drawings (folders = categories), openclipart-svg the same drawings with RDF
metadata (title, keywords, description). Nothing here needs torch, so the quality benchmark shares it.
"""
import hashlib
import html
import os
import re
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

OPENCLIPART = "/usr/share/openclipart"
MAX_PIXELS = 40_000_000  # the service's default Similarity:Limits:MaxImagePixels: the 18 larger drawings are left out

# Fixed split by a hash of the drawing's path: about 80/10/10. The test split is never used for a choice.
SPLITS = {0: "test", 1: "validation"}  # hash bucket (of 10) → split; every other bucket is "train"

# Words of a folder path that name no category on their own; every other folder word is removed from the texts.
FOLDER_STOP_WORDS = {"and", "of", "the"}

_WORK = re.compile(r"<cc:Work\b.*?</cc:Work>", re.S)
_AGENT = re.compile(r"<cc:Agent\b.*?</cc:Agent>", re.S)  # creators and publishers have their own dc:title
_TITLE = re.compile(r"<dc:title>(.*?)</dc:title>", re.S)
_DESCRIPTION = re.compile(r"<dc:description>(.*?)</dc:description>", re.S)
_SUBJECT = re.compile(r"<dc:subject>(.*?)</dc:subject>", re.S)
_KEYWORD = re.compile(r"<rdf:li>(.*?)</rdf:li>", re.S)
_WORD = re.compile(r"[^\W_]+")
_NOISE = re.compile(r"\S+@\S+|https?://\S+|www\.\S+")  # e-mail addresses and links name an author, not the drawing


@dataclass(frozen=True)
class Drawing:
    path: str          # relative to png/, without ".png": "food/fruit/apple"
    category: str      # the folder: "food/fruit"
    title: str         # cleaned; never empty (the service requires a title)
    keywords: tuple    # cleaned, lower-case, unique, in order
    description: str   # cleaned
    split: str

    @property
    def sku(self):
        return "oc-" + hashlib.sha256(self.path.encode()).hexdigest()[:16]

    @property
    def catalog_description(self):
        """What goes into the catalog's description column: the keywords, then the description."""
        return ". ".join(p for p in (", ".join(self.keywords), self.description) if p)

    @property
    def text(self):
        """The text the service embeds for this drawing: CatalogText.Compose of title and description."""
        return compose(self.title, self.catalog_description)


def compose(title, description):
    """src/Similarity.Api/Catalog/CatalogText.cs for an item with only a title and a description."""
    return ". ".join(p.strip() for p in (title, description) if p and p.strip())


def split_of(path):
    return SPLITS.get(int(hashlib.sha256(path.encode()).hexdigest(), 16) % 10, "train")


def folder_words(category):
    """The words of a folder path with their singular and plural forms: "animals/mammals" → animal(s), mammal(s)."""
    words = set()
    for word in _WORD.findall(category.lower()):
        if word in FOLDER_STOP_WORDS:
            continue
        stem = word[:-2] if word.endswith("es") else word[:-1] if word.endswith("s") else word
        words |= {word, word + "s", word + "es", stem, stem + "s", stem + "es"}
    return words


def clean(text, banned):
    text = _NOISE.sub(" ", html.unescape(text))
    text = _WORD.sub(lambda m: " " if m.group().lower() in banned else m.group(), text)
    text = re.sub(r"[\s_]+", " ", text)
    # Punctuation left alone by a removed word ("( )", ", ,") carries nothing.
    text = re.sub(r"^[\W_]+|[^\w)!?.]+$", "", text.strip())
    return text if _WORD.search(text) else ""


def png_pixels(path):
    with open(path, "rb") as f:
        header = f.read(24)
    return int.from_bytes(header[16:20], "big") * int.from_bytes(header[20:24], "big")


def read_metadata(svg_path):
    svg = open(svg_path, "rb").read().decode("utf-8", "replace")
    work = _WORK.search(svg)
    work = _AGENT.sub("", work.group(0)) if work else ""
    title = _TITLE.search(work)
    description = _DESCRIPTION.search(work)
    subject = _SUBJECT.search(work)
    keywords = _KEYWORD.findall(subject.group(1)) if subject else []
    return (title.group(1) if title else "", keywords, description.group(1) if description else "")


def load_catalog(root=OPENCLIPART):
    """Every drawing that has both a PNG and an SVG, sorted by path."""
    drawings = []
    png_root = os.path.join(root, "png")
    for folder, _, files in os.walk(png_root):
        for name in files:
            if not name.endswith(".png"):
                continue
            path = os.path.relpath(os.path.join(folder, name), png_root)[:-4]
            svg = os.path.join(root, "svg", path + ".svg")
            if not os.path.exists(svg) or png_pixels(os.path.join(folder, name)) > MAX_PIXELS:
                continue
            category = os.path.dirname(path)
            banned = folder_words(category)
            raw_title, raw_keywords, raw_description = read_metadata(svg)
            keywords = []
            for keyword in raw_keywords:
                keyword = clean(keyword, banned).lower()
                if keyword and keyword not in keywords:
                    keywords.append(keyword)
            title = clean(raw_title, banned)
            description = clean(raw_description, banned)
            # The service needs a title: fall back to the first keywords, then to a word that says nothing.
            title = title or " ".join(keywords[:2]) or "drawing"
            drawings.append(Drawing(path, category, title, tuple(keywords), description, split_of(path)))
    drawings.sort(key=lambda d: d.path)
    return drawings


def keyword_words(drawing):
    """The keyword words a drawing is graded by in keyword nDCG (folder words are already removed)."""
    return {w for k in drawing.keywords for w in _WORD.findall(k)}


# ---------------------------------------------------------------- pixels


def flatten_on_white(image):
    """RGB with any transparency composited on white, as the service does (libvips flatten on 255)."""
    from PIL import Image

    rgba = image.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(white, rgba).convert("RGB")


def resize_and_crop(image, resize, crop):
    """The service's eval transform: shorter side to `resize` (bilinear), centre crop `crop`."""
    from PIL import Image

    width, height = image.size
    scale = resize / min(width, height)
    size = (max(resize, round(width * scale)), max(resize, round(height * scale)))
    if size != image.size:
        image = image.resize(size, Image.BILINEAR)
    left, top = (image.width - crop) // 2, (image.height - crop) // 2
    return image.crop((left, top, left + crop, top + crop))


def _load_pixels(job):
    from PIL import Image

    path, size = job
    with Image.open(path) as image:
        image.load()
        return np.asarray(resize_and_crop(flatten_on_white(image), size, size), dtype=np.uint8)


def load_pixels(drawings, size, cache_dir, root=OPENCLIPART, workers=2):
    """[N, size, size, 3] uint8 for the drawings, decoded once and cached (decoding all takes a few minutes)."""
    key = hashlib.sha256(("\n".join(d.path for d in drawings) + f"|{size}").encode()).hexdigest()[:16]
    cache = os.path.join(cache_dir, f"pixels-{size}-{key}.npy")
    if os.path.exists(cache):
        return np.load(cache)
    jobs = [(os.path.join(root, "png", d.path + ".png"), size) for d in drawings]
    with ProcessPoolExecutor(workers) as pool:
        pixels = np.stack(list(pool.map(_load_pixels, jobs, chunksize=32)))
    os.makedirs(cache_dir, exist_ok=True)
    np.save(cache + ".tmp.npy", pixels)
    os.replace(cache + ".tmp.npy", cache)
    return pixels


# ---------------------------------------------------------------- categories that cannot be judged by text


BOILERPLATE_SHARE = 0.5  # a folder is boilerplate when at least half its training drawings share one identical text
NO_SUBJECT = ("special", "unsorted")  # folders that group by origin, not by subject


def boilerplate_categories(drawings):
    """Folders whose texts are near-identical boilerplate ("gramastar. magick, geometry"), decided on the
    training split only, plus the folders that have no subject. They are reported apart from the average."""
    texts = {}
    for d in drawings:
        if d.split == "train":
            texts.setdefault(d.category, []).append(d.text)
    result = {c for c, t in texts.items() if len(t) >= 5 and max(t.count(x) for x in set(t)) >= BOILERPLATE_SHARE * len(t)}
    result |= {d.category for d in drawings if d.category.split("/")[0] in NO_SUBJECT}
    return result
