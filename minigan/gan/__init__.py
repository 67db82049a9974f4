"""minigan.gan: the GAN toolkit behind the examples.

    from minigan import gan
    G, D = gan.dcgan28_generator(), gan.dcgan28_discriminator()
    trainer = gan.GANTrainer(G, D, gan.TrainConfig(epochs=5), data=images, out_dir="runs/x")
    trainer.fit()                      # grids, losses.png, metrics.csv, progress.gif, checkpoint

models      builders for the tutorials' GANs (registered by name, rebuilt from checkpoints)
trainer     GANTrainer: alternating D and G steps, logging, health, resume — split into
            steps (the D and G steps as plain functions), config (TrainConfig), metrics_log,
            grids (sampling and grids), run_state (checkpoints), progress (console)
checkpoint  one atomic .npz per checkpoint (arrays + JSON), no pickle
health      warnings a learner can act on (D wins, G loss explodes, mode collapse)
sampling    grids, slerp latent interpolation, sample diversity
plots       loss curves and GIFs (matplotlib Agg, Pillow)
folder      load a folder of images for the 64×64 DCGAN
cli         the examples' shared command line
"""
from .checkpoint import CheckpointError, load_checkpoint, read_meta, save_checkpoint
from .folder import ImageFolderError, load_image_folder
from .health import HealthMonitor
from .models import (BUILDERS, build_model, dcgan28_discriminator, dcgan28_generator,
                     dcgan_discriminator, dcgan_generator, knet_hidden_size,
                     knet_mlp_discriminator, knet_mlp_generator, mnist_mlp_discriminator,
                     mnist_mlp_generator, one_parameter_discriminator, one_parameter_generator,
                     pattern_discriminator, pattern_generator)
from .plots import plot_losses, save_gif
from .sampling import grid_image, mean_pairwise_distance, save_grid, slerp, slerp_path
from .trainer import GANTrainer, NonFiniteLossError, TrainConfig, TrainingDiverged, TrainingInterrupted

__all__ = [
    "GANTrainer", "TrainConfig", "NonFiniteLossError", "TrainingDiverged", "TrainingInterrupted",
    "HealthMonitor",
    "save_checkpoint", "load_checkpoint", "read_meta", "CheckpointError",
    "BUILDERS", "build_model", "dcgan28_generator", "dcgan28_discriminator", "dcgan_generator",
    "dcgan_discriminator", "mnist_mlp_generator", "mnist_mlp_discriminator", "knet_mlp_generator",
    "knet_mlp_discriminator", "knet_hidden_size", "pattern_generator", "pattern_discriminator",
    "one_parameter_generator", "one_parameter_discriminator",
    "grid_image", "save_grid", "slerp", "slerp_path", "mean_pairwise_distance",
    "plot_losses", "save_gif", "load_image_folder", "ImageFolderError",
]
