"""duban (督办): a workflow engine for deputies' suggestions and standing-committee review opinions.

from workflow import Engine, Actor
eng = Engine("sqlite:///duban.db")
item = eng.submit("suggestion", title="增加通勤班车密度", origin="session", proposers=["王芳"])
eng.fire(item.id, "register")
"""

from workflow.backup import BackupError
from workflow.calendar import Calendar, Due, Period, parse_period
from workflow.channels import Settings
from workflow.deadlines import DueStep
from workflow.definition import Definition, load_definition, parse_definition
from workflow.engine import Engine
from workflow.errors import (
    BatchError,
    ConflictError,
    DaemonConflict,
    DefinitionError,
    ImportRejected,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    RowProblem,
    ValidationError,
    WorkflowError,
)
from workflow.migrate import MigrationBlocked
from workflow.model import Actor, AuditEntry, Item, ItemDetail
from workflow.registry import Context, Registry
from workflow.reports import FollowupReport
from workflow.sweep import SweepResult

__all__ = [
    "Actor",
    "AuditEntry",
    "BackupError",
    "BatchError",
    "Calendar",
    "ConflictError",
    "Context",
    "DaemonConflict",
    "Definition",
    "DefinitionError",
    "Due",
    "DueStep",
    "Engine",
    "FollowupReport",
    "ImportRejected",
    "InvalidTransition",
    "Item",
    "ItemDetail",
    "MigrationBlocked",
    "NotFound",
    "Period",
    "PermissionDenied",
    "Registry",
    "RowProblem",
    "Settings",
    "SweepResult",
    "ValidationError",
    "WorkflowError",
    "load_definition",
    "parse_definition",
    "parse_period",
]
__version__ = "0.1.0"
