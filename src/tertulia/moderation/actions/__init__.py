"""What people and rules do to the moderation policy and to messages: plain functions, audited.

`rules`: create, change, switch on and off, delete a brand's rules. `manual`: hide, show again,
delete or block by hand, and approving or rejecting what needs a second person. The automatic
side lives in `tertulia.moderation.automatic` (called by the inbox's router).
"""
