"""Routes of the sandbox process (its ROOT_URLCONF): carrier API, sandbox controls, pages."""

from django.urls import include, path

from apps.sandbox.favicon import favicon
from apps.sandbox.payments import bills
from apps.sandbox.views import api, identity, pages

# The BOSS operations, served nationally and (included below) under each province.
boss_urls = [
    path("plan-changes", api.plan_change, name="plan-change"),
    path("addons", api.addon, name="addon"),
    path("recharges", api.recharge, name="recharge"),
    path("data-packs", api.data_pack, name="data-pack"),
    path(
        "provisioning/by-key/<path:idempotency_key>",
        api.provisioning_by_key,
        name="provisioning-by-key",
    ),
]

urlpatterns = [
    path("health", api.health, name="health"),
    path("favicon.ico", favicon, name="favicon"),
    path("carrier/v1/sms", api.sms_send, name="sms-send"),
    # ``path:`` so that a key containing "/" can still be looked up.
    path("carrier/v1/sms/by-key/<path:idempotency_key>", api.sms_by_key, name="sms-by-key"),
    path("carrier/v1/sms/<str:message_id>", api.sms_detail, name="sms-detail"),
    path("carrier/v1/subscribers/<str:msisdn>", api.subscriber_detail, name="subscriber-detail"),
    path("carrier/v1/subscribers/<str:msisdn>/plan", api.subscriber_plan, name="subscriber-plan"),
    path(
        "carrier/v1/subscribers/<str:msisdn>/offers",
        api.subscriber_offers,
        name="subscriber-offers",
    ),
    path(
        "carrier/v1/subscribers/<str:msisdn>/usage", api.subscriber_usage, name="subscriber-usage"
    ),
    path(
        "carrier/v1/subscribers/<str:msisdn>/bills/<str:month>",
        api.subscriber_bill,
        name="subscriber-bill",
    ),
    path("carrier/v1/", include(boss_urls)),
    # The 31 provincial BOSS endpoints: the same operations, each province with its own knobs.
    path("carrier/v1/provinces/<str:province>/", include(boss_urls)),
    path(
        "carrier/v1/billing-statements/<str:day>",
        bills.carrier_statement,
        name="billing-statement",
    ),
    path("carrier/v1/payments", api.billing_prepare, name="billing-prepare"),
    path("carrier/v1/payments/<str:payment_id>", api.billing_detail, name="billing-detail"),
    path(
        "carrier/v1/payments/<str:payment_id>/<str:action>",
        api.billing_action,
        name="billing-action",
    ),
    path("carrier/v1/identity/verify", identity.identity_verify, name="identity-verify"),
    path("carrier/v1/sim-activations", identity.sim_activate, name="sim-activate"),
    path(
        "carrier/v1/sim-activations/by-key/<path:idempotency_key>",
        identity.sim_activation_by_key,
        name="sim-activation-by-key",
    ),
    path("sandbox/identities/<str:id_number>", identity.identity_put, name="identity-put"),
    path("sandbox/pay/notifications", api.pay_notifications, name="pay-notifications"),
    path("sandbox/knobs", api.knobs_detail, name="knobs-api"),
    path("sandbox/bills/<str:provider>/<str:day>", bills.bill, name="bill"),
    path(
        "sandbox/bills/<str:provider>/<str:day>/differences",
        bills.bill_differences,
        name="bill-differences",
    ),
    path("sandbox/knobs/reset", api.knobs_reset, name="knobs-reset"),
    path("sandbox/provinces/<str:province>/knobs", api.province_knobs, name="province-knobs"),
    path("sandbox/sms", api.sms_list, name="sms-list"),
    path("sandbox/subscribers/<str:msisdn>", api.subscriber_put, name="subscriber-put"),
    path("", include("apps.sandbox.network_urls")),
    path("sandbox/subscribers/<str:msisdn>/usage", api.usage_consume, name="subscriber-consume"),
    path("alipay/", include("apps.sandbox.payments.alipay_urls")),
    path("wechat/", include("apps.sandbox.payments.wechat_urls")),
    path("unionpay/", include("apps.sandbox.payments.unionpay_urls")),
    path("courier/", include("apps.sandbox.courier")),
    path("cp-app/", include("apps.sandbox.cp_app")),
    path("mp/", include("apps.sandbox.wechat_mp")),
    path("", pages.index, name="index"),
    path("sms/inbox/", pages.inbox, name="inbox"),
    path("knobs/", pages.knobs, name="knobs"),
    path("subscribers/", pages.subscriber_list, name="subscribers"),
]

handler404 = "apps.sandbox.views.api.not_found"
handler500 = "apps.sandbox.views.api.server_error"
