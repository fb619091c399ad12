"""Partners' statements in the developer portal, under /developer/statements/."""

from apps.settlement.views import partner_of, party_statement_urls

urlpatterns = party_statement_urls(kind="partner", party_of=partner_of, prefix="partner-")
