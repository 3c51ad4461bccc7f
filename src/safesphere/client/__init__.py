"""The SafeSphere client SDK: ``ThreatReporter`` for detection engines, ``TouristClient`` for phones.

from safesphere.client import ThreatReporter

with ThreatReporter("http://cam-01:ssk_...@127.0.0.1:8000", spool_path="spool.db") as reporter:
    result = reporter.report(incident)  # the dict threat_cv builds
    if result.rejected:
        print(result.status_code, result.detail)
"""

from safesphere.client.errors import ApiError, ClientError, ServerUnreachable
from safesphere.client.payload import new_incident_id
from safesphere.client.reporter import ThreatReporter
from safesphere.client.results import Health, Outcome, Rejection, Result
from safesphere.client.tourist import TouristClient

__all__ = [
    "ApiError",
    "ClientError",
    "Health",
    "Outcome",
    "Rejection",
    "Result",
    "ServerUnreachable",
    "ThreatReporter",
    "TouristClient",
    "new_incident_id",
]
