"""Workbench: CSV import with a per-row error report, and the catalog pages a staff user opens."""

import pytest
import tablib

from apps.catalog.admin import ProductResource
from apps.catalog.models import Product
from apps.catalog.tests.factories import category, product_type

pytestmark = pytest.mark.django_db

HEADERS = ["id", "category", "product_type", "name", "name_en", "subtitle", "description", "status",
           "on_shelf_at", "off_shelf_at", "per_user_limit", "attributes"]  # fmt: skip


def _row(
    name: str,
    cat: str = "data",
    ptype: str = "data_pack",
    attributes: str = '{"volume": "1GB"}',
    status: str = "published",
):
    return [
        "",
        cat,
        ptype,
        name,
        "",
        "",
        "<p>ok</p><script>x</script>",
        status,
        "",
        "",
        "",
        attributes,
    ]


def test_import_reports_bad_rows_and_writes_none_of_a_failed_file():
    category("data")
    product_type(
        "data_pack", schema=[{"key": "volume", "label": "流量", "type": "str", "required": True}]
    )
    data = tablib.Dataset(headers=HEADERS)
    data.append(_row("好的流量包"))
    data.append(_row("未知分类", cat="nope"))
    data.append(_row("缺属性", attributes="{}"))
    data.append(_row("坏状态", status="flying"))

    result = ProductResource().import_data(data, dry_run=False, raise_errors=False)

    assert result.has_validation_errors() or result.has_errors()
    failed_rows = sorted(
        {row.number for row in result.invalid_rows} | {n for n, _ in result.row_errors()}
    )
    assert failed_rows == [2, 3, 4]
    assert not Product.objects.exists()  # one transaction for the file


def test_a_clean_import_creates_refreshed_searchable_products(django_capture_on_commit_callbacks):
    category("data")
    product_type(
        "data_pack", schema=[{"key": "volume", "label": "流量", "type": "str", "required": True}]
    )
    data = tablib.Dataset(headers=HEADERS)
    data.append(_row("导入的流量包"))
    with django_capture_on_commit_callbacks(execute=True):
        result = ProductResource().import_data(data, dry_run=False, raise_errors=False)
    assert not result.has_errors() and not result.has_validation_errors()
    created = Product.objects.get()
    assert created.kind == "electronic"
    assert created.description == "<p>ok</p>"
    assert created.search_terms_a == "导入 的 流量 包"


@pytest.mark.parametrize(
    "url",
    ["/admin/catalog/product/", "/admin/catalog/product/add/", "/admin/catalog/product/import/",
     "/admin/catalog/product/?stock=low", "/admin/catalog/category/", "/admin/catalog/shelf/add/",
     "/admin/catalog/banner/", "/admin/catalog/sku/", "/admin/orders/cart/"],
)  # fmt: skip
def test_workbench_pages_open(client, url):
    from apps.accounts.models import User

    staff = User.objects.create_superuser("13800000000", "pw")
    client.force_login(staff)
    assert client.get(url).status_code == 200


def test_an_operator_uploads_a_banner_picture_and_it_is_cropped(client, settings, tmp_path):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    from apps.accounts.models import User
    from apps.catalog.models import Banner

    settings.MEDIA_ROOT = tmp_path
    client.force_login(User.objects.create_superuser("13800000000", "pw"))
    buffer = io.BytesIO()
    Image.new("RGB", (2400, 1600), "orange").save(buffer, format="PNG")
    response = client.post(
        "/admin/catalog/banner/add/",
        {"title": "双十一", "link": "/c/data/", "colour": "#0071c5", "sort": 0, "is_active": "on",
         "image": SimpleUploadedFile("big.png", buffer.getvalue(), content_type="image/png")},
    )  # fmt: skip
    assert response.status_code == 302
    banner = Banner.objects.get()
    with Image.open(banner.image.path) as picture:
        assert picture.size == (1200, 400)
    assert [p.name for p in (tmp_path / "banners").iterdir()] == [f"{banner.pk}.jpg"]
