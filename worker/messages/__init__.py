"""Guest messages: claim due messages, render them in SQL, send them through WAHA."""
