"""The updates channel: a user's journal read in order (journal_reader), served as an
EventSource long-poll (updates) and pushed to websocket subscribers (websockets, push)."""
