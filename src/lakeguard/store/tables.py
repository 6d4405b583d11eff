"""Every domain's tables, imported in one place so migrations see the whole schema."""

from lakeguard.auth import models as auth_models
from lakeguard.community import models as community_models
from lakeguard.crowd import models as crowd_models
from lakeguard.forces import models as forces_models
from lakeguard.incidents import models as incident_models
from lakeguard.ingest import models as ingest_models
from lakeguard.notify import models as notify_models
from lakeguard.security import models as security_models
from lakeguard.store import outbox
from lakeguard.store.base import Base
from lakeguard.venue import models as venue_models

metadata = Base.metadata

__all__ = [
    "auth_models",
    "community_models",
    "crowd_models",
    "forces_models",
    "incident_models",
    "ingest_models",
    "metadata",
    "notify_models",
    "outbox",
    "security_models",
    "venue_models",
]
