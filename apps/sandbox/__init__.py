"""The carrier's network (BOSS, SMSC, HLR), played over HTTP by a separate process."""
