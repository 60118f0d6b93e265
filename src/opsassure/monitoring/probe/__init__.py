"""The probe: an asyncio runner that executes assigned checks close to their interval and sends
the results to the server (``opsassure probe``). No Django import here except in
``LocalTransport`` (the local probe inside ``opsassure run``)."""
