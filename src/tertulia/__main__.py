from tertulia.cli.main import main

main()
