"""Developer-portal pages: registration, apps, the secret shown once, packages, usage, privacy."""

from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from apps.accounts.tests.factories import UserFactory
from apps.gateway.models import App, Credential, Package, Partner, Subscription, UsageHourly
from apps.gateway.portal import services
from apps.gateway.tests.portal_support import LICENCE, OTHER_LICENCE, approved_partner, company

pytestmark = pytest.mark.django_db


@pytest.fixture
def partner_client(client):
    partner = approved_partner()
    client.force_login(partner.owner)
    client.partner = partner
    return client


def test_portal_needs_sign_in(client):
    response = client.get("/developer/apps/new/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/developer/apps/new/")


def test_a_visitor_sees_the_portal_landing_page_not_the_mall(client, db):
    from apps.gateway.models import Package

    Package.objects.create(
        code="kyc-basic", name="实名核验包", capabilities=["kyc-match"], price_per_call_fen=10
    )

    response = client.get("/developer/")

    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="portal-sign-in"' in page and "next=/developer/" in page
    assert "实名核验包" in page and "¥0.10" in page
    assert "location-verification" in page  # every capability is listed
    assert 'class="searchbox"' not in page  # no mall header


def test_register_company_page(client):
    user = UserFactory()
    client.force_login(user)
    page = client.get("/developer/")
    assert page.status_code == 200 and "/developer/register/" in page.content.decode()
    bad = client.post("/developer/register/", company(licence_number="91350100M000100Y44"))
    assert bad.status_code == 400
    assert (
        "统一社会信用代码" in bad.content.decode()
        or "unified social credit code" in bad.content.decode()
    )
    assert Partner.objects.count() == 0
    good = client.post("/developer/register/", company(licence_number=LICENCE.lower()))
    assert good.status_code == 302 and good["Location"] == "/developer/"
    partner = Partner.objects.get()
    assert (partner.owner_id, partner.status, partner.licence_number) == (
        user.pk,
        "pending",
        LICENCE,
    )
    home = client.get("/developer/")
    assert 'id="partner-status"' in home.content.decode()
    # Registered already: the form sends the user home.
    assert client.get("/developer/register/")["Location"] == "/developer/"


def test_duplicate_licence_shows_on_the_field(client):
    approved_partner()
    client.force_login(UserFactory())
    response = client.post("/developer/register/", company())
    assert response.status_code == 409
    assert response.context["form"].errors["licence_number"]
    assert Partner.objects.count() == 1


def test_create_app_shows_the_secret_exactly_once(partner_client):
    client = partner_client
    response = client.post(
        "/developer/apps/new/",
        {"name": "短信通知", "description": "", "callback_urls": "https://cb.example.com/x",
         "ip_allowlist": "203.0.113.0/24\n198.51.100.7"},
    )  # fmt: skip
    assert response.status_code == 302 and response["Location"] == "/developer/secret/"
    app = App.objects.get()
    assert app.ip_allowlist == ["203.0.113.0/24", "198.51.100.7/32"]
    credential = Credential.objects.get(app=app)
    shown = client.get("/developer/secret/")
    assert shown.status_code == 200
    assert shown["Cache-Control"].startswith("max-age=0") or "no-store" in shown["Cache-Control"]
    assert shown.context["shown"]["client_id"] == credential.client_id
    from apps.core.crypto import decrypt_text

    assert shown.context["shown"]["secret"] == decrypt_text(credential.secret_encrypted)
    assert decrypt_text(credential.secret_encrypted) in shown.content.decode()
    again = client.get("/developer/secret/")
    assert again.status_code == 410
    assert decrypt_text(credential.secret_encrypted) not in again.content.decode()


def test_invalid_app_settings_stay_on_the_form(partner_client):
    response = partner_client.post(
        "/developer/apps/new/",
        {"name": "A", "callback_urls": "http://cb.example.com/x", "ip_allowlist": ""},
    )
    assert response.status_code == 400
    assert response.context["form"].errors["callback_urls"]
    response = partner_client.post(
        "/developer/apps/new/", {"name": "A", "callback_urls": "", "ip_allowlist": "10.0.0.1/8"}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["ip_allowlist"]
    assert App.objects.count() == 0 and Credential.objects.count() == 0


def test_rotate_revoke_and_production_request_from_the_app_page(partner_client):
    client = partner_client
    created = services.app_create(user_id=client.partner.owner_id, name="A")
    app, first = created.app, created.credential
    page = client.get(f"/developer/apps/{app.pk}/")
    assert page.status_code == 200
    assert first.client_id in page.content.decode()
    assert first.secret not in page.content.decode()
    rotated = client.post(f"/developer/apps/{app.pk}/credentials/{first.id}/rotate/")
    assert rotated["Location"] == "/developer/secret/"
    assert client.get("/developer/secret/").status_code == 200
    assert Credential.objects.filter(revoked_at__isnull=True).count() == 2
    client.post(f"/developer/apps/{app.pk}/credentials/{first.id}/revoke/")
    assert Credential.objects.get(pk=first.id).revoked_at is not None
    # Production credentials before approval: refused with a message, nothing issued.
    refused = client.post(f"/developer/apps/{app.pk}/credentials/", {"environment": "production"})
    assert refused.status_code == 302
    assert not Credential.objects.filter(environment="production").exists()
    client.post(f"/developer/apps/{app.pk}/production/")
    app.refresh_from_db()
    assert app.production_status == "requested"


def test_the_credentials_table_names_its_columns_not_states(partner_client):
    """The creation time's column reads 创建时间 (it read 已创建, the word for a state)."""
    app = services.app_create(user_id=partner_client.partner.owner_id, name="A").app
    html = partner_client.get(f"/developer/apps/{app.pk}/").content.decode()
    assert "<th>创建时间</th><th>到期时间</th>" in html and "<th>已创建</th>" not in html


def test_another_companys_app_pages_are_404(partner_client):
    stranger = approved_partner(UserFactory(), licence_number=OTHER_LICENCE)
    theirs = services.app_create(user_id=stranger.owner_id, name="theirs")
    app_id, credential_id = theirs.app.pk, theirs.credential.id
    for url in [f"/developer/apps/{app_id}/", f"/developer/apps/{app_id}/edit/",
                f"/developer/apps/{app_id}/packages/", f"/developer/apps/{app_id}/usage/"]:  # fmt: skip
        assert partner_client.get(url).status_code == 404, url
    for url in [f"/developer/apps/{app_id}/credentials/{credential_id}/revoke/",
                f"/developer/apps/{app_id}/credentials/{credential_id}/rotate/",
                f"/developer/apps/{app_id}/production/",
                f"/developer/apps/{app_id}/packages/subscribe/"]:  # fmt: skip
        assert partner_client.post(url, {"package": "x"}).status_code == 404, url
    assert Credential.objects.get(pk=credential_id).revoked_at is None
    assert Credential.objects.filter(app_id=app_id).count() == 1
    assert App.objects.get(pk=app_id).production_status == "none"


def test_subscribe_and_see_the_quota(partner_client):
    Package.objects.create(
        code="trial", name="试用", capabilities=["sms"], quota_calls=100, quota_period="day"
    )
    app = services.app_create(user_id=partner_client.partner.owner_id, name="A").app
    page = partner_client.get(f"/developer/apps/{app.pk}/packages/")
    assert 'id="package-trial"' in page.content.decode()
    partner_client.post(f"/developer/apps/{app.pk}/packages/subscribe/", {"package": "trial"})
    assert Subscription.objects.get().status == "active"
    detail = partner_client.get(f"/developer/apps/{app.pk}/").content.decode()
    assert 'data-package="trial" data-environment="sandbox"' in detail
    assert "100 / 100" in detail
    partner_client.post(f"/developer/apps/{app.pk}/packages/unsubscribe/", {"package": "trial"})
    assert Subscription.objects.get().status == "cancelled"


def test_usage_page_embeds_the_chart_data(partner_client):
    app = services.app_create(user_id=partner_client.partner.owner_id, name="A").app
    hour = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    UsageHourly.objects.create(
        app_id=app.pk, partner_id=app.partner_id, environment="sandbox", capability="sms",
        hour=hour, calls=12, errors=2, latency_sum_us=24_000, latency_buckets=[0, 12] + [0] * 11,
    )  # fmt: skip
    page = partner_client.get(f"/developer/apps/{app.pk}/usage/?granularity=hour&periods=3")
    assert page.status_code == 200
    report = page.context["report"]
    assert [p.calls for p in report.points][-2:] == [12, 0]
    assert (report.calls, report.errors) == (12, 2)
    html = page.content.decode()
    assert 'id="usage-data"' in html and "chart.umd.min.js" in html
    partial = partner_client.get(
        f"/developer/apps/{app.pk}/usage/?granularity=day", headers={"HX-Request": "true"}
    )
    assert "<html" not in partial.content.decode() and 'id="usage-data"' in partial.content.decode()


def test_a_paid_package_asks_to_confirm_its_price_first(partner_client):
    Package.objects.create(
        code="sms-pro", name="短信专业包", capabilities=["sms"], price_fen=99900,
        quota_calls=10000, quota_period="month",
    )  # fmt: skip
    Package.objects.create(code="free", name="免费包", capabilities=["sms"], quota_calls=10)
    app = services.app_create(user_id=partner_client.partner.owner_id, name="A").app
    url = f"/developer/apps/{app.pk}/packages/subscribe/"

    asked = partner_client.post(url, {"package": "sms-pro"})

    assert asked.status_code == 200 and not Subscription.objects.exists()
    page = asked.content.decode()
    assert "¥999.00" in page and 'name="confirm" value="yes"' in page and "短信专业包" in page
    partner_client.post(url, {"package": "sms-pro", "confirm": "yes"})
    assert Subscription.objects.get(package__code="sms-pro").status == "active"
    # A free package needs no confirmation.
    assert partner_client.post(url, {"package": "free"}).status_code == 302
    assert Subscription.objects.filter(package__code="free", status="active").exists()


def test_the_new_secret_shows_its_expiry_in_beijing_time_with_copy_buttons(partner_client):
    created = partner_client.post(
        "/developer/apps/new/",
        {"name": "A", "description": "", "callback_urls": "", "ip_allowlist": ""},
    )
    assert created["Location"] == "/developer/secret/"
    credential = Credential.objects.get()
    shown = partner_client.get("/developer/secret/").content.decode()

    local = credential.expires_at.astimezone(ZoneInfo("Asia/Shanghai"))
    assert f'">{local:%Y-%m-%d %H:%M} (' in shown  # the visible text, in Beijing time
    assert f'datetime="{credential.expires_at.astimezone(UTC):%Y-%m-%dT%H:%M:%S}' in shown
    assert 'data-copy="client-secret"' in shown and "js/copy.js" in shown
