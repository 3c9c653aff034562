"""Handoff to human advisers: the console's side (queue, routing, inbox, replies, figures).

How the parts fit (one source of truth for each fact):

Rasa's tracker (Rasa process, action server)
    - slot ``handoff``: None | "waiting" (queued, bot paused, within opening hours)
      | "queued" (queued, bot answering: off hours, or after HANDOFF_WAIT_MINUTES)
      | "adviser" (an adviser has it, bot paused); slot ``handoff_id`` holds the console's id.
    - The bot is silenced with Rasa's own ConversationPaused; ``channels/handoff_gate.py`` makes a paused
      conversation run nothing at all (not /restart, not a payload) except the person ending it with an
      end phrase or the "end" button, which runs ``action_end_handoff``.
    - The bot's own handoff notices carry ``metadata.tawjih_handoff`` = "opened" | "taken" | "timeout"
      | "closed" | "ended"; an adviser's message is a ``bot`` event with ``metadata.adviser_id`` (the
      console user's id, never their name).

The action server
    - ``action_request_adviser`` (person asks) calls ``POST {CONSOLE_URL}/internal/v1/handoffs`` with
      ``Authorization: Bearer {HANDOFF_SERVICE_TOKEN}`` and a JSON body::

          {"conversation_id": str, "channel": "socketio"|"whatsapp"|"twilio_whatsapp"|"rest"|...,
           "register": "french"|"darija_latin"|"darija_arabic",
           "region": region slug or null, "city": city slug or null, "programme": programme id or null,
           "eligibility": {"age": ..., "education": ..., ...} or {}, "verdict": "yes"|"maybe"|"no"|null,
           "reason": "asked"|"fallback"|"verdict"|"form"}

      and reads back (201 new, 200 already open for this conversation)::

          {"id": int, "status": "queued"|"assigned", "open_now": bool,
           "position": int (1 = next), "estimate_minutes": int or null,
           "next_opening": ISO 8601 with offset or null (null when open now), "wait_minutes": float}

      An unreachable console (or any non-2xx) means the person is told kindly that no adviser can be
      reached now; nothing is promised.
    - ``action_handoff_taken`` / ``action_handoff_timeout`` / ``action_handoff_closed`` are run by the
      console through Rasa's HTTP API; ``action_end_handoff`` by the Rasa gate.

The console (this package)
    - Calls Rasa's HTTP API with RASA_AUTH_TOKEN (``?token=``): never writes Rasa's tables.
        * claim  -> ``POST /conversations/{id}/execute?output_channel={channel}`` {"name": "action_handoff_taken"}
        * timeout-> same with "action_handoff_timeout"; close -> "action_handoff_closed"
        * reply  -> ``POST /conversations/{id}/tracker/events?execute_side_effects=true&output_channel={channel}``
                    with ``[{"event": "bot", "text": TEXT, "metadata": {"adviser_id": ID}}]``;
                    a template: ``[{"event": "bot", "data": {"custom": {"tawjih_template": "handoff"}},
                    "metadata": {"adviser_id": ID}}]``.
      Rasa answers 200 when the message went out and was recorded; when the person's channel refused it,
      Rasa answers 500 whose ``message`` contains ``delivery_failed:<reason>:<code>`` (reason one of
      no_address, not_connected, outside_window, no_template, platform_refused, platform_unreachable;
      code the platform's error code or empty): the message is **failed**, never sent. REST conversations
      cannot receive pushes: the console refuses before calling Rasa.
    - Reads the tracker store (read-only) for new events of conversations with an open handoff: the person's
      messages (masked for display; the raw text is only checked for safeguarding words, never stored), the
      time of their last message (WhatsApp's 24-hour window), ``action_end_handoff`` (closed by the person),
      and conversations whose events were erased (the handoff disappears).
"""
