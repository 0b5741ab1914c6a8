"""The push endpoint's work: decode a batch, check the device's gap-free ``client_seq``,
apply the ops through the merge in the caller's one transaction, remember the sequence."""

from __future__ import annotations

from typing import Any

import msgspec

from server import audit
from server.access import Principal
from server.clock import now_iso
from server.errors import Conflict, FieldError, InvalidInput, field_error, validation_errors
from server.storage import sync_log
from server.storage.crypto import Keyring
from server.storage.records import Actor
from server.storage.tx import Tx

from .hlc import server_clock
from .merge import Batch, writer_for
from .protocol import PushResponse, header_decoder, op_decoder, push_decoder


class ClientSeqGap(Conflict):
    slug, title = "client-seq-gap", "Ops are missing before these"


def mark_synced(db: Tx, device_id: str) -> None:
    sync_log.mark_device_synced(db, device_id, now_iso())


def _error_text(exc: Exception) -> str:
    # Schema path and expected type only: msgspec's own text can quote the value sent.
    if isinstance(exc, msgspec.ValidationError):
        e = field_error("op", None, str(exc))
        return f"not valid: {e.field}: {e.message}"[:300]
    return "not valid: not JSON"


def decode_push(body: bytes) -> list[tuple[int, str, Any, str | None, bytes]]:
    """(client_seq, op_id, op or None, error or None, raw) for each op of a body."""
    try:
        request = push_decoder.decode(body)
    except msgspec.ValidationError as exc:
        raise InvalidInput("The push body is not valid.", errors=validation_errors(exc)) from None
    except msgspec.DecodeError:
        raise InvalidInput("The push body is not JSON.", errors=[FieldError("body", "not JSON")]) from None
    items = []
    for i, raw in enumerate(request.ops):
        try:
            op = op_decoder.decode(raw)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            try:
                header = header_decoder.decode(raw)
            except (msgspec.ValidationError, msgspec.DecodeError) as header_exc:
                raise InvalidInput(
                    "An op has no readable op_id and client_seq.",
                    errors=[FieldError(f"body.ops[{i}]", _error_text(header_exc))],
                ) from None
            items.append((header.client_seq, header.op_id, None, _error_text(exc), bytes(raw)))
        else:
            items.append((op.client_seq, op.op_id, op, None, bytes(raw)))
    return items


def push(
    db: Tx,
    keyring: Keyring,
    p: Principal,
    body: bytes | None,
    *,
    revoked: bool = False,
    items: list[tuple[int, str, Any, str | None, bytes]] | None = None,
) -> PushResponse:
    """Apply one device's batch inside the caller's write transaction (the reply must only
    be sent after it commits). ``items`` may be passed already decoded (``decode_push``),
    so the decoding happens outside the write lock."""
    if items is None:
        items = decode_push(body or b"")
    seqs = [item[0] for item in items]
    if any(s < 1 for s in seqs):
        bad = seqs.index(next(s for s in seqs if s < 1))
        raise InvalidInput("client_seq starts at 1.", errors=[FieldError(f"body.ops[{bad}].client_seq", "must be ≥ 1")])
    for i in range(1, len(seqs)):
        if seqs[i] <= seqs[i - 1]:
            raise InvalidInput("Ops must be in ascending client_seq order.",
                               errors=[FieldError(f"body.ops[{i}].client_seq", "not after the op before it")])
    last = sync_log.last_client_seq(db, p.device_id)
    new = [s for s in seqs if s > last]
    if new and (new[0] != last + 1 or new[-1] - new[0] != len(new) - 1):
        missing = last + 1 if new[0] != last + 1 else next(a + 1 for a, b in zip(new, new[1:]) if b != a + 1)
        raise ClientSeqGap(
            f"client_seq {missing} has not been received; nothing in this batch was applied."
            f" Send the ops from client_seq {last + 1}.",
            errors=[FieldError("body.ops", f"client_seq {missing} is missing")],
            extra={"expected": last + 1},
        )
    batch = Batch(db, keyring, writer_for(db, Actor(user_id=p.user_id, device_id=p.device_id), p), revoked=revoked)
    batch.prefetch([item[1] for item in items])
    results = []
    for seq, op_id, op, error, raw in items:
        if seq <= last and batch.known(op_id) is None:
            results.append(batch.reject_reused_seq(op, op_id, seq, raw))
        elif op is None:
            results.append(batch.reject_unreadable(op_id, seq, error or "not valid", raw))
        else:
            results.append(batch.apply(op))
    new_last = max([last, *seqs])
    sync_log.set_last_client_seq(db, p.device_id, new_last, now_iso())
    mark_synced(db, p.device_id)
    batch.finish()
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    audit.record(db, "sync-push", purpose="sync", detail=counts, **audit.by(p))
    return PushResponse(results=results, last_client_seq=new_last, server_hlc=server_clock.now(),
                        device_revoked=revoked)
