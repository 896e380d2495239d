"""JobError: an API-level refusal from the job manager, carrying the HTTP status the route answers with."""
from __future__ import annotations


class JobError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message
