"""Report distribution: each role's report to that role's recipients, by shared folder and SMTP, logged.

Pure domain code, no Dagster. Recipients in data/reporting/distribution.yaml, SMTP settings in the
environment, the delivery log in the operational state file (schema ``distribution``, settings.state_path).
"""

from orchestration.distribution.config import (
    Distribution,
    Retries,
    SmtpSettings,
    load_distribution,
    shared_folder,
)
from orchestration.distribution.deliver import deliver_reports
from orchestration.distribution.delivery_log import Delivery

__all__ = [
    "Delivery",
    "Distribution",
    "Retries",
    "SmtpSettings",
    "deliver_reports",
    "load_distribution",
    "shared_folder",
]
