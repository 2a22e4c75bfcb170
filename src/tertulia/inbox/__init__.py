"""The unified inbox: every comment, reply, mention and DM of a brand, threaded, analysed and worked."""
