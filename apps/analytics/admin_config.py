"""``django.contrib.admin`` with the workbench site (named in INSTALLED_APPS in its place)."""

from django.contrib.admin.apps import AdminConfig


class WorkbenchAdminConfig(AdminConfig):
    """The admin whose ``admin.site`` is the workbench (home page per role, chart pages)."""

    default_site = "apps.analytics.site.WorkbenchSite"
