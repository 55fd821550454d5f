"""Background shell jobs: submitted lines that run as tasks on the daemon's loop.

A job belongs to the account that submitted it; lookups by another account find
nothing. Finished jobs are kept (newest ``keep_finished``) so clients can fetch
their result. Nothing here knows HTTP.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from mirage.workspace.shell.runner import LineResult

RUNNING, DONE, CANCELED, FAILED = "running", "done", "canceled", "failed"


@dataclass
class Job:
    id: str
    account: str
    workspace_id: str
    command: str
    session_id: str | None
    submitted_at: float
    seq: int
    status: str = RUNNING
    started_at: float | None = None
    finished_at: float | None = None
    cancel_requested: bool = False
    result: LineResult | None = None
    error: str | None = None
    task: asyncio.Task | None = field(default=None, repr=False)
    done_event: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    @property
    def done(self) -> bool:
        return self.status != RUNNING

    def summary(self) -> dict[str, Any]:
        return {
            "job_id": self.id,
            "workspace_id": self.workspace_id,
            "session_id": self.session_id,
            "command": self.command,
            "status": self.status,
            "cancel_requested": self.cancel_requested,
            "submitted_at": self.submitted_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
        }

    def detail(self) -> dict[str, Any]:
        body = self.summary()
        body["result"] = self.result.to_json() if self.result is not None else None
        body["error"] = self.error
        return body


class JobManager:
    def __init__(self, keep_finished: int = 1000) -> None:
        self.keep_finished = keep_finished
        self._jobs: dict[str, Job] = {}
        self._seq = itertools.count()

    def submit(self, account: str, workspace_id: str, command: str, session_id: str | None,
               run: Callable[[], Awaitable[LineResult]]) -> Job:
        job = Job(id="job_" + secrets.token_hex(8), account=account, workspace_id=workspace_id,
                  command=command, session_id=session_id, submitted_at=time.time(),
                  seq=next(self._seq))
        self._jobs[job.id] = job
        job.task = asyncio.get_running_loop().create_task(self._run(job, run))
        self._prune()
        return job

    async def _run(self, job: Job, run) -> None:
        job.started_at = time.time()
        try:
            job.result = await run()
            job.status = DONE
        except asyncio.CancelledError:
            job.status = CANCELED
        except Exception as exc:            # never let a job take the daemon down
            job.status = FAILED
            job.error = f"{type(exc).__name__}: {exc}"
        finally:
            job.finished_at = time.time()
            job.done_event.set()

    def _prune(self) -> None:
        """Keep the newest ``keep_finished`` finished jobs *per account*: one account's burst
        of jobs never evicts another account's unread results."""
        finished: dict[str, list[Job]] = {}
        for job in self._jobs.values():
            if job.done:
                finished.setdefault(job.account, []).append(job)
        for jobs in finished.values():
            if len(jobs) > self.keep_finished:
                jobs.sort(key=lambda j: j.seq)
                for job in jobs[: len(jobs) - self.keep_finished]:
                    del self._jobs[job.id]

    def get(self, account: str, job_id: str) -> Job | None:
        job = self._jobs.get(job_id)
        if job is None or job.account != account:
            return None
        return job

    def list(self, account: str, workspace_id: str | None = None) -> list[Job]:
        jobs = [j for j in self._jobs.values() if j.account == account
                and (workspace_id is None or j.workspace_id == workspace_id)]
        return sorted(jobs, key=lambda j: j.seq)

    async def wait(self, job: Job, timeout: float) -> bool:
        if job.done:
            return True
        try:
            await asyncio.wait_for(asyncio.shield(job.done_event.wait()), timeout)
        except TimeoutError:
            return False
        return True

    async def cancel(self, job: Job) -> bool:
        """Cancel a running job and wait for it to end; False if it had already ended."""
        if job.task is None or job.task.done():
            return False
        job.cancel_requested = True
        job.task.cancel()
        await asyncio.gather(job.task, return_exceptions=True)
        return True

    async def cancel_workspace(self, workspace_id: str) -> None:
        for job in [j for j in self._jobs.values() if j.workspace_id == workspace_id]:
            await self.cancel(job)

    async def on_workspace_close(self, workspace) -> None:
        """A workspace close hook: its jobs end with it (delete, daemon stop)."""
        await self.cancel_workspace(workspace.id)

    def running(self, account: str) -> int:
        return sum(1 for j in self._jobs.values() if j.account == account and not j.done)

    def busy(self) -> bool:
        return any(not j.done for j in self._jobs.values())

    async def shutdown(self) -> None:
        for job in list(self._jobs.values()):
            await self.cancel(job)
