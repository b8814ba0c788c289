"""Item operations (upsert as Item messages or ItemColumns, codes, get, delete, count, list); see _ops."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Optional

import numpy as np

from dpq_client import _wire
from dpq_client._proto.dpq.v1 import items_pb2
from dpq_client._wire import ItemIdLike, LabelsLike
from dpq_client.types import GetItemsResult, Item, UpsertResult
from dpq_client._steps import ITEMS, ClientStream, Op, Unary
from dpq_client._collection_ops import code_bytes

# ---------------------------------------------------------------------------- items


def item_messages(ids: Sequence[ItemIdLike], vectors: Any, labels: LabelsLike) -> list[items_pb2.Item]:
    x = _wire.as_matrix(vectors)
    id_list = list(ids)
    if len(id_list) != x.shape[0]:
        raise ValueError(f"ids has {len(id_list)} entries, vectors has {x.shape[0]} rows")
    lists = _wire.label_lists(labels, x.shape[0])
    out = []
    for i, (id_, row) in enumerate(zip(id_list, x)):
        item = items_pb2.Item(id=_wire.item_id(id_), labels=lists[i] if lists is not None else ())
        item.vector.MergeFrom(_wire.vector(row))
        out.append(item)
    return out


def _upsert_result(r: items_pb2.UpsertItemsResponse) -> UpsertResult:
    return UpsertResult(r.inserted, r.replaced, r.encoded, r.item_count)


def upsert(name: str, ids: Sequence[ItemIdLike], vectors: Any, labels: LabelsLike) -> Op[UpsertResult]:
    req = items_pb2.UpsertItemsRequest(collection=name, items=item_messages(ids, vectors, labels))
    r: items_pb2.UpsertItemsResponse = yield Unary(ITEMS, "UpsertItems", req)
    return _upsert_result(r)


def item_columns(ids: list[ItemIdLike], lists: Optional[list[list[int]]]) -> Optional[items_pb2.ItemColumns]:
    """The ids and labels of a batch as ItemColumns (payload not set), or None when the ids mix ints
    and strs (one id column holds one kind: such a batch goes as Item messages)."""
    cols = items_pb2.ItemColumns()
    numbers = [int(v) for v in ids if isinstance(v, (int, np.integer)) and not isinstance(v, bool)]
    if len(numbers) == len(ids):
        if any(v < 0 for v in numbers):
            raise ValueError("numeric item ids are uint64, got a negative one")
        cols.numeric_ids.extend(numbers)
    else:
        strings = [v for v in ids if isinstance(v, str)]
        if len(strings) != len(ids):
            return None
        cols.string_ids.extend(strings)
    if lists is not None:
        if all(len(row) == 1 for row in lists):
            cols.labels.extend(row[0] for row in lists)
        elif any(lists):
            cols.labels.extend(v for row in lists for v in row)
            cols.label_counts.extend(len(row) for row in lists)
    return cols


def upsert_stream(name: str, ids: Sequence[ItemIdLike], vectors: Any, labels: LabelsLike,
                  batch_size: int) -> Op[UpsertResult]:
    """Batches as ItemColumns (a few arrays each: the server takes them several times faster than
    one Item message per item), or as Item messages when the ids mix ints and strs."""
    x = _wire.as_matrix(vectors)
    id_list = list(ids)
    if len(id_list) != x.shape[0]:
        raise ValueError(f"ids has {len(id_list)} entries, vectors has {x.shape[0]} rows")
    lists = _wire.label_lists(labels, x.shape[0])
    step = max(int(batch_size), 1)

    def requests() -> Iterator[items_pb2.UpsertItemsRequest]:
        for start in range(0, x.shape[0], step):
            end = start + step
            part = lists[start:end] if lists is not None else None
            cols = item_columns(id_list[start:end], part)
            if cols is None:
                yield items_pb2.UpsertItemsRequest(collection=name if start == 0 else "",
                                                   items=item_messages(id_list[start:end], x[start:end], part))
                continue
            rows = x[start:end]
            if rows.dtype == np.uint8:
                cols.uint8_vectors = rows.tobytes()
            else:
                cols.float32_vectors = rows.astype("<f4", copy=False).tobytes()
            yield items_pb2.UpsertItemsRequest(collection=name if start == 0 else "", columns=cols)

    r: items_pb2.UpsertItemsResponse = yield ClientStream(ITEMS, "UpsertItemsStream", requests())
    return _upsert_result(r)


def _wire_codes(widths: dict[str, int], name: str, codes: Any) -> Op[list[bytes]]:
    """Codes as the wire carries them: from a list of bytes as is, from a 2-D uint8/uint16 array of code
    words (as encode returns them) by the collection's bytes per code word."""
    if isinstance(codes, (list, tuple)) and codes and isinstance(codes[0], (bytes, bytearray)):
        return [bytes(c) for c in codes]
    a = np.asarray(codes)
    bpc: Optional[int] = {np.dtype(np.uint8): 1, np.dtype(np.uint16): 2}.get(a.dtype)
    if bpc is None:
        bpc = yield from code_bytes(widths, name)
    return _wire.array_to_codes(a, bpc)


def coded_item_messages(ids: Sequence[ItemIdLike], codes: list[bytes], labels: LabelsLike) -> list[items_pb2.Item]:
    id_list = list(ids)
    if len(id_list) != len(codes):
        raise ValueError(f"ids has {len(id_list)} entries, codes has {len(codes)} rows")
    lists = _wire.label_lists(labels, len(codes))
    return [items_pb2.Item(id=_wire.item_id(id_), code=c, labels=lists[i] if lists is not None else ())
            for i, (id_, c) in enumerate(zip(id_list, codes))]


def upsert_codes(widths: dict[str, int], name: str, ids: Sequence[ItemIdLike], codes: Any, labels: LabelsLike,
                 model_sha256: str, batch_size: Optional[int]) -> Op[UpsertResult]:
    """One UpsertItems call (batch_size None) or one UpsertItemsStream of batch_size-item batches."""
    wire = yield from _wire_codes(widths, name, codes)
    if batch_size is None:
        req = items_pb2.UpsertItemsRequest(collection=name, items=coded_item_messages(ids, wire, labels),
                                           model_sha256=model_sha256)
        r: items_pb2.UpsertItemsResponse = yield Unary(ITEMS, "UpsertItems", req)
        return _upsert_result(r)
    id_list = list(ids)
    if len(id_list) != len(wire):
        raise ValueError(f"ids has {len(id_list)} entries, codes has {len(wire)} rows")
    lists = _wire.label_lists(labels, len(wire))
    step = max(int(batch_size), 1)

    def requests() -> Iterator[items_pb2.UpsertItemsRequest]:
        for start in range(0, len(wire), step):
            end = start + step
            part = lists[start:end] if lists is not None else None
            cols = item_columns(id_list[start:end], part)
            if cols is None:
                batch = coded_item_messages(id_list[start:end], wire[start:end], part)
                yield items_pb2.UpsertItemsRequest(collection=name if start == 0 else "", items=batch, model_sha256=model_sha256)
                continue
            cols.codes = b"".join(wire[start:end])
            yield items_pb2.UpsertItemsRequest(collection=name if start == 0 else "", columns=cols, model_sha256=model_sha256)

    s: items_pb2.UpsertItemsResponse = yield ClientStream(ITEMS, "UpsertItemsStream", requests())
    return _upsert_result(s)


def item(p: items_pb2.Item, bytes_per_code: int) -> Item:
    return Item(
        id=_wire.id_value(p.id),
        labels=list(p.labels),
        vector=_wire.floats_of(p.vector.values) if p.HasField("vector") and len(p.vector.values) else None,
        code=_wire.codes_to_array([p.code], bytes_per_code)[0] if p.code else None,
    )


def get_items(widths: dict[str, int], name: str, ids: Sequence[ItemIdLike], with_vectors: bool,
              with_codes: bool) -> Op[GetItemsResult]:
    req = items_pb2.GetItemsRequest(collection=name, ids=_wire.item_ids(ids), with_vectors=with_vectors,
                                    with_codes=with_codes)
    r: items_pb2.GetItemsResponse = yield Unary(ITEMS, "GetItems", req)
    bpc = (yield from code_bytes(widths, name)) if with_codes and any(i.code for i in r.items) else 1
    return GetItemsResult([item(i, bpc) for i in r.items], [_wire.id_value(m) for m in r.missing_ids])


def delete_items(name: str, ids: Sequence[ItemIdLike]) -> Op[int]:
    r: items_pb2.DeleteItemsResponse = yield Unary(
        ITEMS, "DeleteItems", items_pb2.DeleteItemsRequest(collection=name, ids=_wire.item_ids(ids)))
    return int(r.deleted)


def count(name: str, any_of: Optional[Sequence[int]]) -> Op[int]:
    req = items_pb2.CountItemsRequest(collection=name)
    if any_of is not None:
        req.filter.any_of.extend(int(v) for v in any_of)
    r: items_pb2.CountItemsResponse = yield Unary(ITEMS, "CountItems", req)
    return int(r.count)


def list_items_page(widths: dict[str, int], name: str, token: str, page_size: int,
                    any_of: Optional[Sequence[int]], with_vectors: bool,
                    with_codes: bool) -> Op[tuple[list[Item], str]]:
    """One ListItems page and the next page token ("" after the last page)."""
    bpc = (yield from code_bytes(widths, name)) if with_codes else 1
    req = items_pb2.ListItemsRequest(collection=name, page_size=page_size, page_token=token,
                                     with_vectors=with_vectors, with_codes=with_codes)
    if any_of is not None:
        req.filter.any_of.extend(int(v) for v in any_of)
    r: items_pb2.ListItemsResponse = yield Unary(ITEMS, "ListItems", req)
    return [item(i, bpc) for i in r.items], r.next_page_token
