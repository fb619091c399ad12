"""Product and banner pictures, stored in the sizes the pages need."""

from __future__ import annotations

import io

from django.core.files.base import ContentFile
from PIL import Image, ImageOps

from apps.catalog.models import Banner, Product
from apps.catalog.services.common import catalog_changed

THUMBNAIL_SIZE = (400, 400)
IMAGE_SIZE = (800, 800)
BANNER_SIZE = (1200, 400)


def _square(picture: Image.Image, side: int) -> bytes:
    """``picture`` fitted into a white ``side``×``side`` square, as JPEG."""
    canvas = Image.new("RGB", (side, side), "white")
    fitted = picture.convert("RGB")
    fitted.thumbnail((side, side))
    canvas.paste(fitted, ((side - fitted.width) // 2, (side - fitted.height) // 2))
    buffer = io.BytesIO()
    canvas.save(buffer, format="JPEG", quality=85, optimize=True)
    return buffer.getvalue()


def _is_svg(name: str) -> bool:
    return name.lower().endswith(".svg")


def _make_thumbnail(product: Product) -> None:
    """The picture in the sizes pages use: IMAGE_SIZE on the product page, THUMBNAIL_SIZE on
    cards, both square so that pages reserve the space (width/height on the img tag). An SVG
    scales, so it is its own thumbnail."""
    if _is_svg(product.image.name):
        Product.objects.filter(pk=product.pk).update(thumbnail=product.image.name)
        return
    with product.image.open("rb") as source, Image.open(source) as original:
        original.load()
        large, small = _square(original, IMAGE_SIZE[0]), _square(original, THUMBNAIL_SIZE[0])
    old = product.image.name
    product.image.save(f"{product.pk}.jpg", ContentFile(large), save=False)
    product.thumbnail.save(f"{product.pk}.jpg", ContentFile(small), save=False)
    Product.objects.filter(pk=product.pk).update(
        image=product.image.name, thumbnail=product.thumbnail.name
    )
    if old != product.image.name:
        product.image.storage.delete(old)


def product_image_set(*, product_id: int, name: str, content: bytes) -> None:
    """Give a product a new picture (an operator's upload or the seed's artwork), stored in
    the sizes the pages need; the old files are deleted. Pages go stale at once."""
    product = Product.objects.get(pk=product_id)
    old = [f.name for f in (product.image, product.thumbnail) if f]
    product.image.save(name, ContentFile(content), save=False)
    Product.objects.filter(pk=product.pk).update(image=product.image.name, thumbnail="")
    product.thumbnail.name = ""
    _make_thumbnail(product)
    product.refresh_from_db(fields=["image", "thumbnail"])
    for stale in set(old) - {product.image.name, product.thumbnail.name}:
        product.image.storage.delete(stale)
    catalog_changed()


def banner_image_set(*, banner_id: int, name: str, content: bytes) -> None:
    """Give a banner a picture cropped to BANNER_SIZE (an SVG is kept as drawn)."""
    banner = Banner.objects.get(pk=banner_id)
    old = banner.image.name if banner.image else ""
    if not _is_svg(name):
        with Image.open(io.BytesIO(content)) as original:
            picture = ImageOps.fit(original.convert("RGB"), BANNER_SIZE)
        buffer = io.BytesIO()
        picture.save(buffer, format="JPEG", quality=85, optimize=True)
        name, content = f"{banner_id}.jpg", buffer.getvalue()
    banner.image.save(name, ContentFile(content), save=False)
    Banner.objects.filter(pk=banner_id).update(image=banner.image.name)
    if old and old != banner.image.name:
        banner.image.storage.delete(old)
    catalog_changed()
