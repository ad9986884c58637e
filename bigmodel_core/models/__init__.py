"""nn.Modules: the seeds' CNN, RNN/LSTM/GRU, autoencoder, a from-scratch BERT encoder."""
