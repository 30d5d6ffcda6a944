"""Build, check and deploy the production template (docs/operations.md).

Nothing here ships to Lambda: `chalice package` copies only app.py and chalicelib/.
"""
