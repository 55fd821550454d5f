from mirage.cli.main import main

raise SystemExit(main())
