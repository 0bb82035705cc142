from hegui.cli import main

main()
