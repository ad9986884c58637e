"""nn.Modules: the course texts' CNN, RNN/LSTM/GRU, autoencoder, a from-scratch BERT encoder."""
