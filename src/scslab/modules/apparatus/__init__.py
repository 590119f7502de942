"""The scoring apparatus: sources, dossier, evaluations, scores, lists, sanctions, appeals, officials."""
