"""The Rent Manager webhook receiver: deliveries committed to `ops.webhook_inbox` before they are answered.

    from rm_pipelines.webhooks.server import ReceiverServer
    with ReceiverServer(engine, orgs, port=8780) as rx:   # orgs: ReceiverOrg(org_id, token, corporate_id, locations)
        rx.url_for("acme")                                 # http://127.0.0.1:8780/rentmanager/acme/<token>

`events.py` says what a delivery means (pure); `app.py` is the ASGI app; `server.py` runs it on uvicorn.
No Dagster here: the sensor that turns the inbox into targeted runs lives in `defs/`.
"""
