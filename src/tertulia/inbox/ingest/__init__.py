"""From the networks into the inbox: poll and webhook intake → store → thread → analyse → route."""
