"""Recovery after a database restore: hold sends, sync every PMS over the gap, settle with WAHA."""
