"""The guard's signals: each a small pure function of what the gate gathered, returning a `Finding`
(a code, a weight and the values its reason needs) or None. The gate (tertulia.guard.gate) does the
reading; nothing here touches the database."""
