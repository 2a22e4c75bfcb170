import sys

try:
    from tertulia.cli.main import main

    main()
except KeyboardInterrupt:
    # Interrupted while still importing (a worker stopped the instant `tertulia serve` started it):
    # exit as an interrupted command does, without a traceback.
    sys.exit(130)
