"""Files written safely: atomic writes, results folders, manifests."""
