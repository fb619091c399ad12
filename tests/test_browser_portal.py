"""A real browser through the developer portal: create an app, copy the secret once, subscribe."""

import pytest

from tests.test_browser import CHROMIUM, browser_page  # noqa: F401 - the fixture

pytestmark = pytest.mark.skipif(
    not CHROMIUM, reason="needs Chromium (Debian package `chromium`; .ci/run installs it)"
)


@pytest.mark.django_db(transaction=True)
def test_partner_creates_an_app_sees_the_secret_once_and_subscribes(
    live_server,
    browser_page,  # noqa: F811
    client,
):
    from apps.core.crypto import decrypt_text
    from apps.gateway.models import Credential, Package
    from apps.gateway.tests.portal_support import approved_partner

    Package.objects.create(
        code="sandbox-trial", name="Sandbox trial", capabilities=["sms", "sim-swap"],
        quota_calls=1000, quota_period="day",
    )  # fmt: skip
    partner = approved_partner()
    client.force_login(partner.owner)
    page = browser_page
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url},
         {"name": "django_language", "value": "en", "url": live_server.url}]
    )  # fmt: skip
    page.goto(f"{live_server.url}/developer/")
    page.click("a:has-text('Create an app')")
    page.fill("#id_name", "Risk checks")
    page.fill("#id_callback_urls", "https://partner.example.com/callbacks")
    page.fill("#id_ip_allowlist", "203.0.113.0/24")
    page.click("button:has-text('Create')")
    page.wait_for_url("**/developer/secret/")
    shown = page.inner_text("#client-secret")
    credential = Credential.objects.get()
    assert shown == decrypt_text(credential.secret_encrypted)
    assert page.inner_text("#client-id") == credential.client_id

    page.click("a:has-text('I have copied it')")
    page.wait_for_url(f"**/developer/apps/{credential.app_id}/")
    assert shown not in page.content()
    # Back to the secret page: gone for good.
    page.goto(f"{live_server.url}/developer/secret/")
    assert page.locator("h1").inner_text() == "The secret is no longer shown"
    assert shown not in page.content()

    page.goto(f"{live_server.url}/developer/apps/{credential.app_id}/packages/")
    page.click("#package-sandbox-trial button:has-text('Subscribe')")
    page.wait_for_selector("#package-sandbox-trial .badge")
    page.goto(f"{live_server.url}/developer/apps/{credential.app_id}/")
    row = page.locator("tr[data-package='sandbox-trial'][data-environment='sandbox']")
    assert row.locator(".remaining").inner_text() == "1000 / 1000"

    page.goto(f"{live_server.url}/developer/apps/{credential.app_id}/usage/?granularity=hour")
    page.wait_for_function(
        "document.querySelector('canvas[data-usage-chart]')._chart !== undefined"
    )
    page.select_option("#id_granularity", "day")
    page.wait_for_url("**granularity=day**")
    page.wait_for_function(
        "document.querySelector('canvas[data-usage-chart]')._chart !== undefined"
    )
    labels = page.evaluate(
        "document.querySelector('canvas[data-usage-chart]')._chart.data.labels.length"
    )
    assert labels == 14
