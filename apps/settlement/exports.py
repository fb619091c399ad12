"""Report exports: finance asks, a worker writes the file with progress, finance downloads it.

Every download, of an export or of a statement, is audited (who, what, when).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.audit import audit_record
from apps.core.errors import InvalidArgument, NotFound
from apps.core.tasks import enqueue_on_commit
from apps.settlement.models import ReportExport
from apps.settlement.reports import writers
from apps.settlement.reports.sources import REPORTS, Params

PROGRESS_EVERY = 10_000  # rows between progress writes


class UnknownReport(InvalidArgument):
    code = "SETTLEMENT_UNKNOWN_REPORT"
    default_message = _("No report has this name or format.")


class ExportNotReady(NotFound):
    code = "SETTLEMENT_EXPORT_NOT_READY"
    default_message = _("The report is not ready.")


def exports_dir() -> Path:
    """Where report files go: beside, never inside, the public media directory."""
    return Path(
        getattr(settings, "SETTLEMENT_REPORTS_DIR", Path(settings.MEDIA_ROOT).parent / "reports")
    )


def export_request(*, report: str, params: Params, fmt: str, actor_id: int | None) -> int:
    """Queue a report for writing; returns the export's id (the worker starts on commit)."""
    from apps.settlement.tasks import report_export_task

    if report not in REPORTS or fmt not in ReportExport.Format.values:
        raise UnknownReport(details={"report": report, "format": fmt})
    if params.end <= params.start:
        raise InvalidArgument(details={"period": "the end comes after the start"})
    with transaction.atomic():
        export = ReportExport.objects.create(
            report=report, params=params.as_dict(), fmt=fmt, requested_by_id=actor_id
        )
        audit_record(
            action="settlement.report_requested",
            object_type="settlement.report_export",
            object_id=export.pk,
            actor_id=actor_id,
            after={"report": report, "format": fmt, **params.as_dict()},
        )
        enqueue_on_commit(report_export_task, export.pk)
    return export.pk


def export_write(*, export_id: int) -> int:
    """Write the export's file row by row, counting progress; returns the rows written.
    A repeat rewrites the same file (an export is a read of the ledger, never a write)."""
    export = ReportExport.objects.get(pk=export_id)
    if export.status == ReportExport.Status.DONE:
        return export.rows_written
    report = REPORTS[export.report]
    params = Params.from_dict(export.params)
    ReportExport.objects.filter(pk=export_id).update(status=ReportExport.Status.RUNNING)
    directory = exports_dir()
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{export.report}-{export_id}.{export.fmt}"
    header = [str(title) for title in report.header]
    last = [0]

    def progress(count: int) -> None:
        if count - last[0] >= PROGRESS_EVERY:
            last[0] = count
            ReportExport.objects.filter(pk=export_id).update(rows_written=count)

    try:
        rows = report.rows(params)
        if export.fmt == ReportExport.Format.CSV:
            with (directory / name).open("w", encoding="utf-8", newline="") as target:
                count = writers.write_csv(target, header, rows, progress)
        else:
            count = writers.write_xlsx(directory / name, str(report.title), header, rows, progress)
    except Exception as exc:
        ReportExport.objects.filter(pk=export_id).update(
            status=ReportExport.Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        raise
    ReportExport.objects.filter(pk=export_id).update(
        status=ReportExport.Status.DONE,
        rows_written=count,
        file_name=name,
        finished_at=timezone.now(),
    )
    return count


def export_download(*, export_id: int, actor_id: int | None) -> Path:
    """The file of a finished export; the download is audited."""
    export = ReportExport.objects.filter(pk=export_id, status=ReportExport.Status.DONE).first()
    if export is None:
        raise ExportNotReady(details={"export_id": export_id})
    download_record(
        actor_id=actor_id,
        what={
            "export_id": export_id,
            "report": export.report,
            "format": export.fmt,
            **export.params,
        },
        object_type="settlement.report_export",
        object_id=export_id,
    )
    return exports_dir() / export.file_name


def download_record(
    *, actor_id: int | None, what: dict[str, Any], object_type: str, object_id: object
) -> None:
    audit_record(
        action="settlement.downloaded",
        object_type=object_type,
        object_id=object_id,
        actor_id=actor_id,
        after={key: str(value) for key, value in what.items()},
    )


def export_progress(*, export_id: int) -> dict[str, Any]:
    row = ReportExport.objects.filter(pk=export_id).values("status", "rows_written").first()
    if row is None:
        raise NotFound(details={"export_id": export_id})
    return dict(row)
