"""What users read: charts, terminal tables and the HTML report."""
