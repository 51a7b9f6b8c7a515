"""The result builder of the domain kit: what an inbound handler answers."""


def records_result(*recordsets, **members):
    """``{"records": [{model, id, name}...], **members}``: the records the event created or
    changed (each recordset in order, duplicates kept once), then the handler's own members."""
    seen = set()
    records = []
    for recordset in recordsets:
        for record in recordset:
            if (record._name, record.id) not in seen:
                seen.add((record._name, record.id))
                records.append({"model": record._name, "id": record.id, "name": record.display_name})
    return dict({"records": records}, **members)
