"""Inbound messages keep their current outcome as a transport-neutral kind (``result_kind``)
instead of the HTTP status it was answered with (``response_status``): converted here, so that
a re-post of an event stored before answers exactly what it answered before."""

# The REST API's statuses of the stored outcomes (lib/http_answer.py, read backwards).
KINDS = {
    200: "processed",
    202: "accepted",
    424: "waiting",
    422: "refused",
    403: "forbidden",
    503: "unavailable",
    500: "failed",
}


def migrate(cr, version):
    cr.execute(
        "SELECT 1 FROM information_schema.columns "
        "WHERE table_name = 'mfg_integration_message' AND column_name = 'response_status'"
    )
    if not cr.fetchone():
        return
    cr.execute("ALTER TABLE mfg_integration_message ADD COLUMN IF NOT EXISTS result_kind varchar")
    for status, kind in KINDS.items():
        cr.execute(
            "UPDATE mfg_integration_message SET result_kind = %s WHERE direction = 'inbound' AND response_status = %s",
            [kind, status],
        )
