from tflint_notes.cli import main

raise SystemExit(main())
