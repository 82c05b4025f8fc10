"""The public « Vérifier un document » page: did this portal issue this PDF, unaltered?"""
