from opsassure.cli import main

main()
