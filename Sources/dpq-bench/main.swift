print("dpq-bench")
