from server.boot.cli import main

main()
