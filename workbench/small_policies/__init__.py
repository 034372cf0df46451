"""Graph hyper policies (Hegde and Sukhatme, ICRA 2023): one graph hypernetwork trained with SAC emits the
weights of thousands of small ReLU MLP actors; pick the smallest that is good enough for a budget."""
